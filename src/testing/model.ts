/**
 * The machines as test models. Paths come from `xstate/graph`
 * (getShortestPaths / getSimplePaths) over an explicit, payload-carrying event
 * list per state; this module also measures what a set of paths covers
 * (states and transitions, each guarded candidate counted on its own), checks
 * the lifecycle invariants on the pure machines, and (model-run.ts) replays
 * each path against the emulator with the real runtime on simulated time.
 *
 * Two event sets: `realizable` (the default) holds only what the emulator and
 * the runtime can be steered to produce; `all` adds the events no emulator
 * behaviour can cause (a record child crashing, the clip guard failing to
 * start), for the pure invariants and the 100 % model coverage.
 */
import {
  type AnyStateMachine,
  createActor,
  fromCallback,
  fromPromise,
  getInitialSnapshot,
  getNextSnapshot,
  type InspectionEvent,
  type Snapshot,
  SimulatedClock as XStateClock,
} from 'xstate';
import { getShortestPaths, getSimplePaths, type StatePath } from 'xstate/graph';
import { eventLabel, guardName } from '../diagram.js';
import type { RecordOptionsInput } from '../graph/schemas.js';
import { type CallPolicy, callMachine, type RecordPolicy, recordMachine } from '../machines/index.js';

export type ModelEvent = { type: string } & Record<string, unknown>;
type CallSnap = ReturnType<typeof callMachine.getInitialSnapshot>;
type RecordSnap = ReturnType<typeof recordMachine.getInitialSnapshot>;
export type CallSnapshot = CallSnap;
export type RecordSnapshot = RecordSnap;

export interface ModelPath<S extends Snapshot<unknown> = Snapshot<unknown>> extends StatePath<S, ModelEvent> {
  /** How it was generated: a shortest path to a state, a simple path, or a shortest path plus one transition. */
  kind: 'shortest' | 'simple' | 'transition';
  /** `event -> event -> ...  =>  state` */
  description: string;
}
export type CallPath = ModelPath<CallSnap>;
export type RecordPath = ModelPath<RecordSnap>;

export interface PathOptions {
  /** `realizable` (default): only events the emulator can be steered to produce. `all`: every event the machine handles. */
  events?: 'realizable' | 'all';
}

const MIN = 60_000;

/**
 * Call policy of modelled calls. The last retry goes out 10 s before the
 * deadline (default 30 s): with the HTTP adapter's 30-s attempt timeout, only
 * then can the deadline pass while a keepAlive is in flight.
 */
export const MODEL_CALL_POLICY: Partial<CallPolicy> = Object.freeze({ finalRetryMarginMs: 10_000 });
/** Record policy of records inside the call model: the handler can wait out the drain timeout. */
export const MODEL_CALL_RECORD_POLICY: Partial<RecordPolicy> = Object.freeze({
  processingTimeoutMs: 60 * MIN,
});
/** Options of every modelled record: a beep, `#` stops it, 5-s timeouts. */
export const MODEL_RECORD_OPTIONS: RecordOptionsInput = Object.freeze({
  playBeep: true,
  stopTones: ['#'],
  initialSilenceTimeoutInSeconds: 5,
  maxSilenceTimeoutInSeconds: 5,
  maxRecordDurationInSeconds: 10,
}) as RecordOptionsInput;

export const MODEL_CALL_ID = 'model-call';
export const MODEL_RECORD_ID = 'rec-1';
const MODEL_OPERATION_ID = 'model-op';
const MODEL_CLIENT_CONTEXT = 'model-context';
const MODEL_LOCATION = 'https://recordings.example/model-clip';

export const callModelInput = () => ({ callId: MODEL_CALL_ID, at: 0, policy: { ...MODEL_CALL_POLICY } });
export const recordModelInput = () => ({
  callId: MODEL_CALL_ID,
  recordId: MODEL_RECORD_ID,
  clientContext: MODEL_CLIENT_CONTEXT,
  options: { ...MODEL_RECORD_OPTIONS },
  at: 0,
  storeKey: 'model-clip',
});

// ---------------------------------------------------------------- call model

/**
 * The event that produced each traversed snapshot (serializeState sees it;
 * `events(snapshot)` does not): a cancelMediaProcessing request is in flight
 * right after CANCEL_MEDIA, and its outcome is the next event.
 */
const producedBy = new WeakMap<object, string>();

const cancelInFlight = (s: CallSnap) => producedBy.get(s) === 'CANCEL_MEDIA';

/**
 * The abstract call state: what the paths distinguish (time and counters
 * collapse). The record child is whichever one the call has (the model
 * spawns one); `cancel` (a cancelMediaProcessing request just sent) exists
 * only in the traversal, so the runtime driver compares without it.
 */
export function callStateKey(s: CallSnap, withCancel = true): string {
  const c = s.context;
  const rec = Object.values(c.records)[0];
  return JSON.stringify({
    v: s.value,
    rec: rec ? (rec.done ? 'done' : 'live') : 'none',
    // keepAliveDue on a retry is not the first attempt: only a retry can run into the deadline.
    failing: c.failures > 0,
    // retryWait with no retry left before the deadline margin.
    late: s.value === 'retryWait' && c.retryAt === null,
    end: c.endReason,
    // A wait whose time has already passed (back from a failed hang-up): it ends at once.
    due:
      (s.value === 'active' && c.nextKeepAliveAt <= c.at) ||
      (s.value === 'retryWait' && c.retryAt !== null && c.retryAt <= c.at),
    ...(withCancel ? { cancel: cancelInFlight(s) } : {}),
  });
}

function callSerialize(s: CallSnap, event: ModelEvent | undefined, prev?: CallSnap): string {
  // An event that changes nothing returns the same snapshot object: keep what produced it first.
  if (event && s !== prev) producedBy.set(s, event.type);
  return callStateKey(s);
}

/** Which error a keepAlive gets, as the call machine reads it. */
const httpError = (status: number, at: number, extra: Record<string, unknown> = {}) => ({
  kind: 'http',
  status,
  code: status === 404 ? '8522' : String(status),
  message: `HTTP ${status}`,
  at,
  ...extra,
});

function callEvents(s: CallSnap, mode: 'realizable' | 'all'): ModelEvent[] {
  if (s.status !== 'active') return [];
  const c = s.context;
  const at = c.at;
  const rec = c.records[MODEL_RECORD_ID];
  const live = !!rec && !rec.done;
  const out: ModelEvent[] = [];
  if (cancelInFlight(s)) {
    // The cancelMediaProcessing request answers before anything else happens. Its success
    // changes nothing (no transition), so only its failure is a model event: paths that end
    // here leave the request to succeed.
    return [{ type: `xstate.error.actor.cancel-${c.cancelSeq}`, error: httpError(403, at) }];
  }
  const record: ModelEvent = {
    type: 'RECORD',
    at,
    recordId: MODEL_RECORD_ID,
    clientContext: MODEL_CLIENT_CONTEXT,
    storeKey: 'model-clip',
    options: { ...MODEL_RECORD_OPTIONS },
    policy: { ...MODEL_CALL_RECORD_POLICY },
  };
  // Rejected by the machine itself (canSpawnRecord): a policy that does not validate.
  const badRecord: ModelEvent = {
    ...record,
    recordId: 'rec-bad',
    policy: { processingTimeoutMs: -1 },
  };
  const common = (): ModelEvent[] => [
    { type: 'RESUME', at },
    {
      type: 'TERMINATED',
      at,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    },
    { type: 'HANG_UP', at },
    ...(rec ? [] : [record]),
    badRecord,
    { type: 'CANCEL_MEDIA', at, clientContext: 'model-cancel' },
  ];
  const childEnds = (): ModelEvent[] =>
    live
      ? [
          {
            type: `xstate.done.actor.${MODEL_RECORD_ID}`,
            output: { final: 'deleted', outcome: 'processed' },
          },
          ...(mode === 'all'
            ? [{ type: `xstate.error.actor.${MODEL_RECORD_ID}`, error: { kind: 'error', message: 'crash' } }]
            : []),
        ]
      : [];
  // A wait whose time has already come (back from a failed hang-up) ends at once: nothing can come first.
  if (s.value === 'active' && c.nextKeepAliveAt <= at)
    return [{ type: 'xstate.after.KEEPALIVE_INTERVAL.call.active' }];
  if (s.value === 'retryWait' && c.retryAt !== null && c.retryAt <= at)
    return [{ type: 'xstate.after.RETRY_DELAY.call.retryWait' }];
  switch (s.value) {
    case 'active':
      out.push({ type: 'xstate.after.KEEPALIVE_INTERVAL.call.active' }, ...common());
      break;
    case 'keepAliveDue':
      out.push(
        { type: 'xstate.done.actor.keepAlive', output: { at } },
        { type: 'xstate.error.actor.keepAlive', error: httpError(404, at) },
        // Refused (the app lost its permission): no retry can fix it.
        { type: 'xstate.error.actor.keepAlive', error: httpError(403, at) },
        { type: 'xstate.error.actor.keepAlive', error: httpError(503, at, { retryAfterMs: 60_000 }) },
      );
      if (c.failures > 0) {
        // Only a retry goes out late enough (10 s before the deadline) to fail inside the margin,
        // or to be still in flight when the deadline passes.
        out.push(
          {
            type: 'xstate.error.actor.keepAlive',
            error: httpError(503, c.deadlineAt - (c.policy.finalRetryMarginMs >> 1)),
          },
          { type: 'xstate.after.KEEPALIVE_DEADLINE.call.keepAliveDue' },
        );
      }
      out.push(...common());
      break;
    case 'retryWait':
      // With a retry scheduled the retry fires first; with none left the deadline does.
      out.push(
        c.retryAt === null
          ? { type: 'xstate.after.KEEPALIVE_DEADLINE.call.retryWait' }
          : { type: 'xstate.after.RETRY_DELAY.call.retryWait' },
        ...common(),
      );
      break;
    case 'hangingUp':
      out.push(
        { type: 'xstate.done.actor.hangUp', output: { at } },
        { type: 'xstate.error.actor.hangUp', error: httpError(404, at) },
        { type: 'xstate.error.actor.hangUp', error: httpError(403, at) },
        {
          type: 'TERMINATED',
          at,
          resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
        },
        { type: 'RESUME', at },
        { ...record, recordId: rec ? 'rec-2' : MODEL_RECORD_ID },
      );
      break;
    case 'draining':
      // Graph's own end notification, late: only while Graph's call still runs (we did not hang it up).
      if (c.endReason !== 'terminated' && c.endReason !== 'hungUp')
        out.push({
          type: 'TERMINATED',
          at,
          resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
        });
      out.push(
        { type: 'xstate.after.DRAIN_TIMEOUT.call.draining' },
        { type: 'RESUME', at },
        // Rejected while ending, whatever it asks for.
        { ...record, recordId: 'rec-2' },
      );
      break;
  }
  out.push(...childEnds());
  return out;
}

// -------------------------------------------------------------- record model

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

// ----------------------------------------------------------------- paths

function describe(steps: ReadonlyArray<{ event: ModelEvent; state: { value: unknown } }>): string {
  const evs = steps.slice(1).map((s) => shortEvent(s.event));
  const last = steps[steps.length - 1]?.state.value;
  return `${evs.length ? evs.join(' -> ') : '(start)'}  =>  ${JSON.stringify(last)}`;
}

/** A short label for an event: `after KEEPALIVE_INTERVAL`, `keepAlive error 503`, `OPERATION_COMPLETED completed`. */
export function shortEvent(e: ModelEvent): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(e.type);
  if (after) return `after ${after[1]}`;
  const done = /^xstate\.done\.actor\.(.+)$/.exec(e.type);
  if (done) return `${done[1]} done`;
  const err = /^xstate\.error\.actor\.(.+)$/.exec(e.type);
  if (err) {
    const status = (e.error as { status?: number } | undefined)?.status;
    return `${err[1]} error${status ? ` ${status}` : ''}`;
  }
  if (e.type === 'OPERATION_COMPLETED') return `completion ${String(e.status)}`;
  if (
    e.type === 'RECORD' &&
    (e.policy as { processingTimeoutMs?: number } | undefined)?.processingTimeoutMs === -1
  )
    return 'RECORD (bad policy)';
  return e.type;
}

/** An event as a path step names it: everything but the times (`at`), which depend on the route taken. */
export function stepLabel(e: ModelEvent): string {
  return JSON.stringify(e, (k, v) => (k === 'at' ? undefined : v));
}

/**
 * The traversal keeps one snapshot per abstract state, so a path it returns
 * can pair its events with snapshots from other routes to the same abstract
 * state (other times, other counters). Replay the path's events from the
 * start instead, each time taking the event with the same label from what
 * the real snapshot offers; undefined when a step is not offered there.
 */
function materialize<S extends Snapshot<unknown>>(
  t: Traversal,
  events: ReadonlyArray<ModelEvent>,
): StatePath<S, ModelEvent> | undefined {
  let state = getInitialSnapshot(t.machine, t.input as never) as unknown as S;
  t.serialize(state as never, undefined);
  const steps: Array<{ event: ModelEvent; state: S }> = [{ event: { type: 'xstate.init' }, state }];
  for (const wanted of events) {
    const label = stepLabel(wanted);
    const event = t.events(state as never).find((e) => stepLabel(e) === label);
    if (!event) return undefined;
    const prev = state;
    state = getNextSnapshot(t.machine, state as never, event as never) as unknown as S;
    t.serialize(state as never, event, prev as never);
    steps.push({ event, state });
  }
  return { state, steps, weight: events.length };
}

/** Materialize and describe generated paths; `dropped` counts those whose steps do not hold from the start. */
function tag<S extends Snapshot<unknown>>(
  t: Traversal,
  paths: ReadonlyArray<{ steps: ReadonlyArray<{ event: ModelEvent }> }>,
  kind: ModelPath['kind'],
  dropped: { count: number },
): ModelPath<S>[] {
  const out: ModelPath<S>[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    const m = materialize<S>(
      t,
      p.steps.slice(1).map((s) => s.event),
    );
    if (!m) {
      dropped.count++;
      continue;
    }
    const key = m.steps.map((s) => stepLabel(s.event)).join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...m, kind, description: describe(m.steps as never) });
  }
  return out;
}

type Traversal = {
  machine: AnyStateMachine;
  input: unknown;
  events: (s: never) => ModelEvent[];
  serialize: (s: never, e: ModelEvent | undefined, prev?: never) => string;
};

function traversal(which: 'call' | 'record', mode: 'realizable' | 'all'): Traversal {
  return which === 'call'
    ? {
        machine: callMachine,
        input: callModelInput(),
        events: (s: CallSnap) => callEvents(s, mode),
        serialize: callSerialize as never,
      }
    : {
        machine: recordMachine,
        input: recordModelInput(),
        events: (s: RecordSnap) => recordEvents(s, mode),
        serialize: ((s: RecordSnap) => recordStateKey(s)) as never,
      };
}

function shortest<S extends Snapshot<unknown>>(t: Traversal, dropped: { count: number }): ModelPath<S>[] {
  const paths = getShortestPaths(t.machine, {
    input: t.input,
    events: t.events as never,
    serializeState: t.serialize as never,
  }) as unknown as StatePath<S, ModelEvent>[];
  return tag<S>(t, paths, 'shortest', dropped);
}

/**
 * For every transition the given paths miss: the shortest path to a state
 * where an event takes it, plus that event. Self-loops (RESUME, a rejected
 * RECORD, a note of CALL_ENDED) never appear on shortest or simple paths.
 */
function transitionPaths<S extends Snapshot<unknown>>(
  t: Traversal,
  base: ModelPath<S>[],
  starts: ModelPath<S>[],
  dropped: { count: number },
): ModelPath<S>[] {
  const covered = new Set(base.flatMap((p) => replay(t.machine, p).transitions));
  const extra: ModelPath<S>[] = [];
  for (const start of starts) {
    for (const event of t.events(start.state as never)) {
      const events = [...start.steps.slice(1).map((s) => s.event), event];
      const [candidate] = tag<S>(
        t,
        [{ steps: [{ event: { type: 'xstate.init' } }, ...events.map((e) => ({ event: e }))] }],
        'transition',
        dropped,
      );
      if (!candidate) continue;
      const taken = replay(t.machine, candidate).transitions;
      if (taken.some((id) => !covered.has(id))) {
        for (const id of taken) covered.add(id);
        extra.push(candidate);
      }
    }
  }
  return extra;
}

/**
 * callMachine paths. `shortest`: one per abstract call state (value, record
 * child none/live/done, first attempt or retry, retry left or not, a cancel
 * in flight); `transitions`: one more per transition those miss. The
 * abstraction bounds the search: time and counters collapse, one record
 * child, one cancel in flight at a time.
 */
export function callMachinePaths(opts: PathOptions = {}): {
  shortest: CallPath[];
  transitions: CallPath[];
  /** Generated paths whose steps did not hold when replayed from the start (see `materialize`). */
  dropped: number;
} {
  const t = traversal('call', opts.events ?? 'realizable');
  const dropped = { count: 0 };
  const sp = shortest<CallSnap>(t, dropped);
  const transitions = transitionPaths(t, sp, sp, dropped);
  return { shortest: sp, transitions, dropped: dropped.count };
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
  const t = traversal('record', opts.events ?? 'realizable');
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
    transitions: transitionPaths(t, simple, sp, dropped),
    dropped: dropped.count,
  };
}

// ------------------------------------------------------ replay and coverage

const never = fromPromise<never, unknown>(() => new Promise<never>(() => {}));
const quiet = fromCallback(() => () => {});
const stubbedRecord = recordMachine.provide({
  actors: {
    startRecord: never as never,
    downloadRecording: never as never,
    processClip: never as never,
    deleteClip: never as never,
    clipGuard: quiet as never,
  },
});
const stubbed = new WeakMap<AnyStateMachine, AnyStateMachine>([
  [recordMachine, stubbedRecord],
  [
    callMachine,
    callMachine.provide({
      actors: {
        sendKeepAlive: never as never,
        hangUp: never as never,
        cancelMedia: never as never,
        recordMachine: stubbedRecord as never,
      },
    }),
  ],
]);

interface TransitionLike {
  source: NodeLike;
  eventType: string;
}
interface NodeLike {
  id: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[] | undefined;
}

function transitionId(t: TransitionLike): string {
  const list = t.eventType === '' ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  return `${t.source.id}|${t.eventType}|${list.indexOf(t)}`;
}

export interface ReplayResult {
  /** Transition ids taken, in order (`source|eventType|candidate`). */
  transitions: string[];
  /** State node ids entered (or active) along the way. */
  states: string[];
  /** Value after each step, from a real actor with never-answering actors. */
  values: unknown[];
  /** Status of every record child when the replay ended. */
  children: Record<string, string>;
  final: { value: unknown; status: string };
}

/**
 * Replay a path on a real actor of the machine whose actors never answer
 * (the path's events stand in for their answers), on a clock that never
 * moves, and record the transitions each event took (eventless ones too).
 */
export function replay(
  machine: AnyStateMachine,
  path: { steps: ReadonlyArray<{ event: ModelEvent }> },
): ReplayResult {
  const logic = stubbed.get(machine) ?? machine;
  const transitions: string[] = [];
  const states = new Set<string>();
  const spawned = new Map<string, { getSnapshot(): { status: string } }>();
  const root = { ref: undefined as unknown };
  const input = machine === callMachine ? callModelInput() : recordModelInput();
  const actor = createActor(logic, {
    input: input as never,
    clock: new XStateClock(),
    inspect: (ev: InspectionEvent) => {
      if (ev.type === '@xstate.actor' && root.ref && ev.actorRef !== root.ref) {
        const ref = ev.actorRef as unknown as { id: string; getSnapshot(): { status: string } };
        if (/^rec-/.test(ref.id)) spawned.set(ref.id, ref);
      }
      if (ev.type === '@xstate.microstep' && ev.actorRef === root.ref) {
        for (const t of (ev as unknown as { _transitions: TransitionLike[] })._transitions)
          transitions.push(transitionId(t));
        for (const n of (ev.snapshot as unknown as { _nodes: NodeLike[] })._nodes) states.add(n.id);
      }
    },
  });
  root.ref = actor;
  actor.subscribe({ error: () => {} });
  for (const n of (actor.getSnapshot() as unknown as { _nodes: NodeLike[] })._nodes) states.add(n.id);
  actor.start();
  for (const n of (actor.getSnapshot() as unknown as { _nodes: NodeLike[] })._nodes) states.add(n.id);
  const values: unknown[] = [actor.getSnapshot().value];
  for (const step of path.steps.slice(1)) {
    actor.send(step.event as never);
    values.push(actor.getSnapshot().value);
  }
  const snap = actor.getSnapshot();
  const children: Record<string, string> = {};
  for (const [id, ref] of spawned) children[id] = ref.getSnapshot().status;
  actor.stop();
  return {
    transitions,
    states: [...states],
    values,
    children,
    final: { value: snap.value, status: snap.status },
  };
}

/** Every state node (but the root) and every transition candidate of a machine. */
export function machineElements(machine: AnyStateMachine): { states: string[]; transitions: string[] } {
  const states: string[] = [];
  const transitions: string[] = [];
  const walk = (node: NodeLike, isRoot: boolean) => {
    if (!isRoot) states.push(node.id);
    for (const [eventType, list] of node.transitions)
      list.forEach((_t, i) => {
        transitions.push(`${node.id}|${eventType}|${i}`);
      });
    (node.always ?? []).forEach((_t, i) => {
      transitions.push(`${node.id}||${i}`);
    });
    for (const child of Object.values(node.states)) walk(child, false);
  };
  walk(machine.root as unknown as NodeLike, true);
  return { states, transitions };
}

export interface Coverage {
  states: { covered: number; total: number; percent: number; missing: string[] };
  transitions: { covered: number; total: number; percent: number; missing: string[] };
}

/** State and transition coverage of `paths` on `machine` (each guarded candidate is its own transition). */
export function coverage(
  machine: AnyStateMachine,
  paths: ReadonlyArray<{ steps: ReadonlyArray<{ event: ModelEvent }> }>,
): Coverage {
  const all = machineElements(machine);
  const seenStates = new Set<string>();
  const seenTransitions = new Set<string>();
  for (const p of paths) {
    const r = replay(machine, p);
    for (const s of r.states) seenStates.add(s);
    for (const t of r.transitions) seenTransitions.add(t);
  }
  const part = (universe: string[], seen: Set<string>) => {
    const covered = universe.filter((x) => seen.has(x)).length;
    return {
      covered,
      total: universe.length,
      percent: universe.length ? Math.round((1000 * covered) / universe.length) / 10 : 100,
      missing: universe.filter((x) => !seen.has(x)),
    };
  };
  return { states: part(all.states, seenStates), transitions: part(all.transitions, seenTransitions) };
}

/** `call.keepAliveDue|xstate.error.actor.keepAlive|0` -> `call.keepAliveDue: keepAlive error [isNotFound] -> call.draining`. */
export function describeTransition(machine: AnyStateMachine, id: string): string {
  const [source = '', eventType = '', index = '0'] = id.split('|');
  const node = (machine as unknown as { getStateNodeById(id: string): NodeLike }).getStateNodeById(source);
  const list = eventType === '' ? (node.always ?? []) : (node.transitions.get(eventType) ?? []);
  const t = list[Number(index)] as (TransitionLike & { guard?: unknown; target?: NodeLike[] }) | undefined;
  const guard = guardName(t?.guard);
  const target = t?.target?.length ? ` -> ${t.target.map((n) => n.id).join(',')}` : '';
  return `${source}: ${eventLabel(eventType)}${guard ? ` [${guard}]` : ''}${target}`;
}

// ---------------------------------------------------------------- invariants

export interface InvariantViolation {
  path: string;
  rule: string;
}

const FINAL_RECORD = new Set(['deleted', 'failed']);

/**
 * The lifecycle rules, checked on each path of the pure machines:
 * - record: a path that entered `holdingClip` (bytes may be stored) and ended ends in `deleted`;
 *   nothing leaves `deleted`/`failed` (every event the model knows is sent there and must change nothing);
 * - call: nothing leaves `ended`; a path that reaches `ended` leaves no record child running.
 */
export function checkInvariants(
  which: 'call' | 'record',
  paths: ReadonlyArray<ModelPath<CallSnap> | ModelPath<RecordSnap>>,
): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  const machine = which === 'call' ? callMachine : recordMachine;
  // A final state has nothing to leave by (an actor ignores every event once it is done).
  for (const id of finalStatesWithTransitions(machine))
    out.push({ path: '(machine)', rule: `final state ${id} has transitions` });
  for (const p of paths) {
    const values = p.steps.map((s) => s.state as unknown as { value: unknown; status: string });
    // The traversal offers no event in a final state; a path that still moved on would break the rule.
    const firstFinal = values.findIndex((s) => s.status === 'done');
    if (
      firstFinal >= 0 &&
      values
        .slice(firstFinal)
        .some((s) => JSON.stringify(s.value) !== JSON.stringify(values[firstFinal]!.value))
    )
      out.push({ path: p.description, rule: 'left a final state' });
    const last = values[values.length - 1]!;
    if (which === 'record') {
      const held = values.some(
        (s) => typeof s.value === 'object' && s.value !== null && 'holdingClip' in s.value,
      );
      if (held && last.status === 'done' && last.value !== 'deleted')
        out.push({ path: p.description, rule: 'stored bytes but did not end in deleted' });
      if (last.status === 'done' && !FINAL_RECORD.has(String(last.value)))
        out.push({ path: p.description, rule: 'ended outside deleted/failed' });
    }
    const r = replay(machine, p);
    if (JSON.stringify(r.values) !== JSON.stringify(values.map((v) => v.value)))
      out.push({ path: p.description, rule: 'a real actor took another route than the traversal' });
    if (which === 'call') {
      if (r.final.status === 'done')
        for (const [id, status] of Object.entries(r.children))
          if (status === 'active')
            out.push({ path: p.description, rule: `record child ${id} still running after ended` });
    }
  }
  return out;
}

function finalStatesWithTransitions(machine: AnyStateMachine): string[] {
  const out: string[] = [];
  const walk = (node: NodeLike & { type?: string }) => {
    if (node.type === 'final' && (node.transitions.size > 0 || (node.always ?? []).length > 0))
      out.push(node.id);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root as unknown as NodeLike);
  return out;
}

export {
  createModelHarness,
  type ModelHarness,
  type PathRun,
  type RunRecordOptions,
  runCallPath,
  runRecordPath,
} from './model-run.js';
