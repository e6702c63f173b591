/**
 * recordMachine as a model: the abstract record state, the events each state
 * can get (with their payloads), and the paths through it.
 */
import type { StatePath } from 'xstate/graph';
import { getSimplePaths } from 'xstate/graph';
import { recordMachine } from '../machines/index.js';
import {
  httpError,
  MODEL_LOCATION,
  MODEL_OPERATION_ID,
  type ModelEvent,
  type ModelPath,
  type PathOptions,
  recordModelInput,
  shortest,
  type Traversal,
  tag,
  transitionPaths,
} from './model-core.js';
import { replay } from './model-coverage.js';

type RecordSnap = ReturnType<typeof recordMachine.getInitialSnapshot>;
export type RecordSnapshot = RecordSnap;
export type RecordPath = ModelPath<RecordSnap>;

export function recordStateKey(s: RecordSnap): string {
  const c = s.context;
  return JSON.stringify({
    v: s.value,
    outcome: c.outcome,
    early: c.early ? c.early.status : null,
    callEnded: c.callEndedAt !== null,
    deleteFailed: c.deleteAttempts > 0,
    // Recording past its completion deadline (or the grace after the call ended): it fails at once.
    due: s.value === 'recording' && completionDue(c),
  });
}

function completionDue(c: RecordSnap['context']): boolean {
  const graceEnd =
    c.callEndedAt === null ? Number.POSITIVE_INFINITY : c.callEndedAt + c.policy.callEndGraceMs;
  return Math.min(c.completionDeadlineAt, graceEnd) <= c.at;
}

function completion(c: RecordSnap['context'], ok: boolean): ModelEvent {
  return {
    type: 'OPERATION_COMPLETED',
    at: c.at,
    operationId: c.operationId ?? MODEL_OPERATION_ID,
    clientContext: c.clientContext,
    status: ok ? 'completed' : 'failed',
    completionReason: ok ? 'stopToneDetected' : 'initialSilenceTimeout',
    resultInfo: ok ? { code: 200, subcode: 0, message: 'ok' } : { code: 408, subcode: 0, message: 'silence' },
    recordingLocation: ok ? MODEL_LOCATION : null,
    hasRecording: ok,
  };
}

function recordEvents(s: RecordSnap, mode: 'realizable' | 'all'): ModelEvent[] {
  if (s.status !== 'active') return [];
  const c = s.context;
  const at = c.at;
  const callEnded: ModelEvent[] = c.callEndedAt === null ? [{ type: 'CALL_ENDED', at }] : [];
  const resume: ModelEvent = { type: 'RESUME', at };
  const guardFails: ModelEvent[] =
    mode === 'all'
      ? [{ type: 'xstate.error.actor.clipGuard', error: { kind: 'error', message: 'no guard' } }]
      : [];
  const v = s.value;
  if (v === 'requesting') {
    const answer: ModelEvent = {
      type: 'xstate.done.actor.startRecord',
      output: { operationId: MODEL_OPERATION_ID, status: 'running', at },
    };
    // No answer within the HTTP adapter's 30-s attempt timeout: Graph may have started it anyway.
    const timedOut: ModelEvent = {
      type: 'xstate.error.actor.startRecord',
      error: { kind: 'timeout', message: 'timed out after 30000 ms', at: at + 30_000 },
    };
    // Once a completion overtook the POST, the POST's own answer follows at once (the emulator
    // cannot hold it back past the timeout after delivering the completion).
    if (c.early) return mode === 'all' ? [answer, timedOut] : [answer];
    return [
      answer,
      { type: 'xstate.error.actor.startRecord', error: httpError(400, at) },
      { type: 'xstate.error.actor.startRecord', error: httpError(403, at) },
      timedOut,
      completion(c, true),
      completion(c, false),
      ...callEnded,
      resume,
    ];
  }
  if (v === 'recording') {
    // Already past the completion deadline (or the grace after the call ended): nothing comes first.
    if (completionDue(c)) return [{ type: 'xstate.after.COMPLETION_TIMEOUT.record.recording' }];
    return [
      completion(c, true),
      completion(c, false),
      { type: 'xstate.after.COMPLETION_TIMEOUT.record.recording' },
      ...callEnded,
      resume,
    ];
  }
  if (typeof v === 'object' && 'holdingClip' in v) {
    const h = v.holdingClip;
    if (h === 'downloading')
      return [
        { type: 'xstate.done.actor.downloadRecording', output: { bytes: 32_044, at } },
        { type: 'xstate.error.actor.downloadRecording', error: httpError(404, at) },
        ...guardFails,
      ];
    if (typeof h === 'object' && 'processing' in h)
      return [
        { type: 'xstate.done.actor.processClip', output: { at } },
        { type: 'xstate.error.actor.processClip', error: { kind: 'error', message: 'handler threw', at } },
        { type: 'xstate.after.PROCESSING_TIMEOUT.record.holdingClip.processing.running' },
        // The call may end while the handler runs: noted, nothing else changes.
        ...callEnded,
        resume,
      ];
    if (typeof h === 'object' && 'deleting' in h) {
      if (h.deleting === 'trying')
        return [
          { type: 'xstate.done.actor.deleteClip', output: { at } },
          { type: 'xstate.error.actor.deleteClip', error: { kind: 'error', message: 'EBUSY', at } },
        ];
      return [{ type: 'xstate.after.DELETE_RETRY.record.holdingClip.deleting.waiting' }, resume];
    }
  }
  return [];
}

function recordTraversal(mode: 'realizable' | 'all'): Traversal {
  return {
    machine: recordMachine,
    input: recordModelInput(),
    events: (s: RecordSnap) => recordEvents(s, mode),
    serialize: ((s: RecordSnap) => recordStateKey(s)) as never,
  };
}

/**
 * recordMachine paths. `simple`: every simple path from the start (no
 * abstract state twice) that ends in a final state; `shortest`: one per
 * abstract state; `transitions`: self-loops the others miss. The abstract
 * record state is the state value, the outcome so far, an early completion,
 * whether the call ended, whether a delete failed, and whether the wait for
 * the completion is already over.
 */
export function recordMachinePaths(opts: PathOptions = {}): {
  simple: RecordPath[];
  shortest: RecordPath[];
  transitions: RecordPath[];
  dropped: number;
} {
  const t = recordTraversal(opts.events ?? 'realizable');
  const dropped = { count: 0 };
  const simple = tag<RecordSnap>(
    t,
    getSimplePaths(recordMachine, {
      input: t.input as never,
      events: t.events as never,
      serializeState: t.serialize as never,
      toState: (s) => s.status === 'done',
      // Bound: a refused delete retries the same way whatever led to deleting (the loop reads
      // nothing else), so simple paths explore it after a processed clip only; the shortest
      // and transition paths reach it from the other outcomes.
      filterEvents: (s, e) =>
        (e.type as string) !== 'xstate.error.actor.deleteClip' || s.context.outcome === 'processed',
    }) as unknown as StatePath<RecordSnap, ModelEvent>[],
    'simple',
    dropped,
  ).filter((p) => p.state.status === 'done');
  const sp = shortest<RecordSnap>(t, dropped);
  return {
    simple,
    shortest: sp,
    transitions: transitionPaths(t, simple, sp, dropped, (p) => replay(recordMachine, p).transitions),
    dropped: dropped.count,
  };
}
