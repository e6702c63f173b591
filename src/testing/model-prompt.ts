/**
 * promptMachine as a model: every simple path to a final state, for a
 * one-shot prompt and for a `loop` prompt (which Graph never completes).
 */
import { getSimplePaths, type StatePath } from 'xstate/graph';
import { promptMachine } from '../machines/index.js';
import {
  httpError,
  type ModelEvent,
  type ModelPath,
  promptModelInput,
  shortest,
  type Traversal,
  tag,
  transitionPaths,
} from './model-core.js';
import { replay } from './model-coverage.js';

type PromptSnap = ReturnType<typeof promptMachine.getInitialSnapshot>;
export type PromptPath = ModelPath<PromptSnap>;

function completion(c: PromptSnap['context'], how: 'completed' | 'failed' | 'canceled'): ModelEvent {
  return {
    type: 'OPERATION_COMPLETED',
    at: c.at,
    operationId: c.operationId ?? 'prompt-op',
    clientContext: c.clientContext,
    status: how === 'completed' ? 'completed' : 'failed',
    completionReason: how === 'canceled' ? 'mediaOperationCanceled' : how === 'completed' ? 'unknown' : null,
    resultInfo:
      how === 'canceled'
        ? { code: 400, subcode: 8508, message: 'canceled' }
        : how === 'completed'
          ? { code: 200, subcode: 0, message: 'ok' }
          : { code: 500, subcode: 9999, message: 'media failed' },
  };
}

function promptEvents(s: PromptSnap): ModelEvent[] {
  if (s.status !== 'active') return [];
  const c = s.context;
  const common = [
    completion(c, 'completed'),
    completion(c, 'failed'),
    completion(c, 'canceled'),
    { type: 'CALL_ENDED', at: c.at },
    { type: 'RESUME', at: c.at },
  ];
  if (s.value === 'requesting')
    return [
      {
        type: 'xstate.done.actor.playPrompt',
        output: { operationId: 'prompt-op', status: 'running', at: c.at },
      },
      { type: 'xstate.error.actor.playPrompt', error: httpError(500, c.at) },
      ...common,
    ];
  return common;
}

export function promptStateKey(s: PromptSnap): string {
  return JSON.stringify({ v: s.value, loop: s.context.loop, op: s.context.operationId !== null });
}

function promptTraversal(loop: boolean): Traversal {
  return {
    machine: promptMachine,
    input: promptModelInput(loop),
    events: (s: PromptSnap) => promptEvents(s),
    serialize: ((s: PromptSnap) => promptStateKey(s)) as never,
  };
}

/** promptMachine paths for a one-shot and a loop prompt: simple paths to final states, plus the self-loops. */
export function promptMachinePaths(): { simple: PromptPath[]; transitions: PromptPath[]; dropped: number } {
  const dropped = { count: 0 };
  const simple: PromptPath[] = [];
  const transitions: PromptPath[] = [];
  for (const loop of [false, true]) {
    const t = promptTraversal(loop);
    const found = tag<PromptSnap>(
      t,
      getSimplePaths(promptMachine, {
        input: t.input as never,
        events: t.events as never,
        serializeState: t.serialize as never,
        toState: (s) => s.status === 'done',
      }) as unknown as StatePath<PromptSnap, ModelEvent>[],
      'simple',
      dropped,
    ).filter((p) => p.state.status === 'done');
    simple.push(...found);
    const sp = shortest<PromptSnap>(t, dropped);
    transitions.push(...transitionPaths(t, found, sp, dropped, (p) => replay(promptMachine, p).transitions));
  }
  return { simple, transitions, dropped: dropped.count };
}
