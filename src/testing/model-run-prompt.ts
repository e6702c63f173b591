/** Drives one promptMachine model path through the real runtime against the emulator (model-run.ts has the engine). */
import type { AnyActorRef } from 'xstate';
import { MODEL_CALL_POLICY, type ModelEvent } from './model-core.js';
import { type PromptPath, promptStateKey } from './model-prompt.js';
import {
  endCallLocally,
  expectation,
  fault,
  follow,
  MIN,
  type ModelHarness,
  PathFailure,
  type PathRun,
  resultOf,
  SEC,
  Trace,
} from './model-run.js';

const URI = 'https://media.example/model-prompt.wav';
type Completion = { status?: string; completionReason?: string | null; resultInfo?: { subcode?: number } };
const completionKind = (e: ModelEvent) => {
  const c = e as Completion;
  if (c.completionReason === 'mediaOperationCanceled' || c.resultInfo?.subcode === 8508) return 'canceled';
  return c.status === 'completed' ? 'completed' : 'failed';
};

/**
 * Run one promptMachine path: playPrompt on an established call. The prompt
 * plays 1 s when the path completes it, else all day; a cancel is
 * cancelMediaProcessing, a failure the caller leaving, CALL_ENDED the call
 * ending on the bot's side only (a DELETE answered 404).
 */
export async function runPromptPath(h: ModelHarness, path: PromptPath): Promise<PathRun> {
  const steps = path.steps;
  const key = (s: unknown) => promptStateKey(s as never);
  const { expected, at } = expectation(steps, key);
  const trace = new Trace();
  const t0 = h.clock.now();
  const run = resultOf(h, path.description, expected, trace, t0);
  const loop = !!(path.input as { loop?: boolean }).loop;
  const events = steps.slice(1).map((s) => s.event);
  const completes = events.some((e) => e.type === 'OPERATION_COMPLETED' && completionKind(e) === 'completed');
  // What ends `requesting`: the POST's answer, or something before it.
  const exit = events.findIndex((e) => e.type !== 'RESUME');
  const first = exit < 0 ? undefined : events[exit];
  const callId = h.emulator.createCall({
    callbackUri: h.callbackUri,
    script: {
      promptSecondsByUri: { [URI]: completes ? (first?.type === 'OPERATION_COMPLETED' ? 0 : 1) : 86_400 },
    },
  }).id;
  const call = h.runtime.track(callId, { policy: { ...MODEL_CALL_POLICY } });
  if (first?.type === 'xstate.error.actor.playPrompt')
    fault(h, { route: 'playPrompt', callId, count: 1, fault: { kind: 'status', status: 500 } });
  else if (first?.type === 'OPERATION_COMPLETED')
    fault(h, { route: 'playPrompt', callId, count: 1, fault: { kind: 'notification', mode: 'early' } });
  else if (first?.type !== 'xstate.done.actor.playPrompt' || exit > 0)
    fault(h, { route: 'playPrompt', callId, count: 1, fault: { kind: 'delay', ms: 10 * SEC } });

  const done = h.runtime
    .playPrompt(callId, [URI], { clientContext: 'model-prompt', loop })
    .catch(() => undefined);
  await Promise.resolve();
  await Promise.resolve();
  const children = call.getSnapshot().children as Record<string, AnyActorRef | undefined>;
  const child = Object.entries(children).find(([id]) => id.startsWith('prompt-'))?.[1];
  try {
    if (!child) throw new PathFailure('playPrompt spawned no prompt child');
    trace.push(key(child.getSnapshot()));
    child.subscribe({ next: (s) => trace.push(key(s)), error: () => {} });
    await follow({
      h,
      trace,
      expected,
      at,
      steps,
      perform(i) {
        const e = steps[i]!.event;
        if (e.type === 'RESUME') child.send({ type: 'RESUME', at: h.clock.now() });
        else if (e.type === 'CALL_ENDED') endCallLocally(h, callId);
        else if (e.type === 'OPERATION_COMPLETED') {
          const kind = completionKind(e);
          if (kind === 'canceled') h.runtime.cancelMedia(callId, 'model-cancel');
          if (kind === 'failed') h.emulator.control.hangUpByCaller(callId);
        }
      },
    });
    // Whatever the path's end: the call ends, and the prompt with it.
    if (call.getSnapshot().status === 'active') {
      h.emulator.control.clearFaults();
      if (!h.emulator.control.hangUpByCaller(callId)) h.runtime.hangUp(callId).catch(() => {});
      await h.clock.runUntil(() => call.getSnapshot().status !== 'active', 60 * MIN);
      if (call.getSnapshot().status === 'active')
        throw new PathFailure('the call did not end after the path');
    }
    if (child.getSnapshot().status === 'active')
      throw new PathFailure('the prompt still runs after the call ended');
    await done;
    return run();
  } catch (err) {
    if (err instanceof PathFailure) return run(err.message);
    throw err;
  }
}
