/**
 * The path engine of the model-based tests: shared types, the modelled
 * inputs, and how paths are generated from `xstate/graph`
 * (getShortestPaths / getSimplePaths over an explicit, payload-carrying
 * event list per state), re-materialised from the start, and labelled.
 */
import { type AnyStateMachine, getInitialSnapshot, getNextSnapshot, type Snapshot } from 'xstate';
import { getShortestPaths, type StatePath } from 'xstate/graph';
import type { RecordOptionsInput } from '../graph/schemas.js';
import type { CallInput, CallPolicy, CallStart, PromptInput, RecordPolicy } from '../machines/index.js';

export type ModelEvent = { type: string } & Record<string, unknown>;

export interface ModelPath<S extends Snapshot<unknown> = Snapshot<unknown>> extends StatePath<S, ModelEvent> {
  /** How it was generated: a shortest path to a state, a simple path, or a shortest path plus one transition. */
  kind: 'shortest' | 'simple' | 'transition';
  /** `event -> event -> ...  =>  state` */
  description: string;
  /** The machine input the path starts from. */
  input: unknown;
}

export interface PathOptions {
  /** `realizable` (default): only events the emulator can be steered to produce. `all`: every event the machine handles. */
  events?: 'realizable' | 'all';
}

export const MIN = 60_000;

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
export const MODEL_PROMPT_ID = 'prompt-1';
export const MODEL_OPERATION_ID = 'model-op';
export const MODEL_CLIENT_CONTEXT = 'model-context';
export const MODEL_LOCATION = 'https://recordings.example/model-clip';

export const MODEL_OFFER = Object.freeze({ tenantId: 'model-tenant', callChainId: 'model-chain' });
export const MODEL_TARGET = Object.freeze({ identity: { user: { id: 'model-callee' } } });

/** Input of a modelled call: tracked established (today's runtime.track), offered, or placed. */
export function callModelInput(start: CallStart = 'established'): CallInput {
  return {
    callId: MODEL_CALL_ID,
    at: 0,
    policy: { ...MODEL_CALL_POLICY },
    ...(start === 'established' ? {} : { start }),
    ...(start === 'incoming' ? { offer: { ...MODEL_OFFER } } : {}),
    ...(start === 'outgoing' ? { place: { targets: [{ ...MODEL_TARGET }] } } : {}),
  };
}

export const recordModelInput = () => ({
  callId: MODEL_CALL_ID,
  recordId: MODEL_RECORD_ID,
  clientContext: MODEL_CLIENT_CONTEXT,
  options: { ...MODEL_RECORD_OPTIONS },
  at: 0,
  storeKey: 'model-clip',
});

export const promptModelInput = (loop: boolean): PromptInput => ({
  callId: MODEL_CALL_ID,
  promptId: MODEL_PROMPT_ID,
  clientContext: 'model-prompt',
  prompts: [{ uri: 'https://media.example/hello.wav' }],
  loop,
  at: 0,
});

/** Which error an actor gets, as the machines read it. */
export const httpError = (status: number, at: number, extra: Record<string, unknown> = {}) => ({
  kind: 'http',
  status,
  code: status === 404 ? '8522' : String(status),
  message: `HTTP ${status}`,
  at,
  ...extra,
});

/** `{ established: 'active' }` as `established.active`. */
export function flat(v: unknown): string {
  return typeof v === 'string'
    ? v
    : Object.entries(v as Record<string, unknown>)
        .map(([k, c]) => `${k}.${flat(c)}`)
        .join(',');
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
  if (e.type === 'NOTIFICATION') {
    const r = e.resource as { kind: string; state?: string | null; status?: string; toneInfo?: unknown };
    if (r.kind === 'operation') return `operation ${String(r.status)}`;
    const tone = r.toneInfo as { sequenceId: number } | null | undefined;
    if (tone) return `tone #${tone.sequenceId}`;
    return `call ${String(e.changeType)} ${String(r.state)}`;
  }
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

function describe(steps: ReadonlyArray<{ event: ModelEvent; state: { value: unknown } }>): string {
  const evs = steps.slice(1).map((s) => shortEvent(s.event));
  const last = steps[steps.length - 1]?.state.value;
  return `${evs.length ? evs.join(' -> ') : '(start)'}  =>  ${JSON.stringify(last)}`;
}

export type Traversal = {
  machine: AnyStateMachine;
  input: unknown;
  events: (s: never) => ModelEvent[];
  serialize: (s: never, e: ModelEvent | undefined, prev?: never) => string;
};

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
export function tag<S extends Snapshot<unknown>>(
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
    out.push({ ...m, kind, description: describe(m.steps as never), input: t.input });
  }
  return out;
}

export function shortest<S extends Snapshot<unknown>>(
  t: Traversal,
  dropped: { count: number },
): ModelPath<S>[] {
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
 * `taken` names the transitions a path takes (model-coverage.ts replays it).
 */
export function transitionPaths<S extends Snapshot<unknown>>(
  t: Traversal,
  base: ModelPath<S>[],
  starts: ModelPath<S>[],
  dropped: { count: number },
  taken: (p: ModelPath<S>) => string[],
): ModelPath<S>[] {
  const covered = new Set(base.flatMap(taken));
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
      const ids = taken(candidate);
      if (ids.some((id) => !covered.has(id))) {
        for (const id of ids) covered.add(id);
        extra.push(candidate);
      }
    }
  }
  return extra;
}
