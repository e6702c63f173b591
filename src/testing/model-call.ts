/**
 * callMachine as a model: the abstract call state, the events each state can
 * get (with their payloads), and the paths through it from each start
 * (tracked established, offered, placed). `realizable` events are those the
 * emulator-driven runs (model-run.ts) can produce today: the established
 * start with keepAlives, records, cancelMediaProcessing, hang-ups and Graph's
 * end notification. `all` adds the rest (set-up states, prompts, tones,
 * routed completions, crashes).
 */
import type { CallStart, NotificationEvent } from '../machines/index.js';
import { callMachine } from '../machines/index.js';
import {
  callModelInput,
  flat,
  httpError,
  MODEL_CALL_RECORD_POLICY,
  MODEL_CLIENT_CONTEXT,
  MODEL_LOCATION,
  MODEL_OPERATION_ID,
  MODEL_PROMPT_ID,
  MODEL_RECORD_ID,
  MODEL_RECORD_OPTIONS,
  MODEL_TARGET,
  type ModelEvent,
  type ModelPath,
  type PathOptions,
  shortest,
  type Traversal,
  transitionPaths,
} from './model-core.js';
import { replay } from './model-coverage.js';

type CallSnap = ReturnType<typeof callMachine.getInitialSnapshot>;
export type CallSnapshot = CallSnap;
export type CallPath = ModelPath<CallSnap>;

/**
 * The event that produced each traversed snapshot (serializeState sees it;
 * `events(snapshot)` does not): a cancelMediaProcessing or subscribeToTone
 * request is in flight right after it was asked for, and its outcome is the next event.
 */
const producedBy = new WeakMap<object, string>();
const inFlight = (s: CallSnap) => {
  const e = producedBy.get(s);
  return e === 'CANCEL_MEDIA' || e === 'SUBSCRIBE_TONES' ? e : false;
};

/**
 * The abstract call state: what the paths distinguish (time and counters
 * collapse). The record child is whichever one the call has (the model
 * spawns one); `cancel` (a request just sent) exists only in the traversal,
 * so the runtime driver compares without it. Keys for the set-up states,
 * prompts and tones appear only when set, so established-start keys stay as
 * the emulator runs see them.
 */
export function callStateKey(s: CallSnap, withCancel = true): string {
  const c = s.context;
  const rec = Object.values(c.records)[0];
  const prompt = Object.values(c.prompts)[0];
  const v = flat(s.value);
  return JSON.stringify({
    v: s.value,
    rec: rec ? (rec.done ? 'done' : 'live') : 'none',
    // keepAliveDue on a retry is not the first attempt: only a retry can run into the deadline.
    failing: c.failures > 0,
    // retryWait with no retry left before the deadline margin.
    late: v === 'established.retryWait' && c.retryAt === null,
    end: c.end.reason,
    // A wait whose time has already passed (back from a failed hang-up): it ends at once.
    due:
      (v === 'established.active' && c.nextKeepAliveAt <= c.at) ||
      (v === 'established.retryWait' && c.retryAt !== null && c.retryAt <= c.at),
    ...(withCancel ? { cancel: inFlight(s) } : {}),
    ...(prompt ? { prompt: prompt.done ? 'done' : 'live' } : {}),
    ...(c.seq.lastTone >= 0 ? { tone: true } : {}),
    ...(c.setup.establishedEarly ? { early: true } : {}),
    ...(c.end.pendingReason ? { pending: c.end.pendingReason } : {}),
    ...(c.setup.establishedAt === null ? { up: false } : {}),
  });
}

function callSerialize(s: CallSnap, event: ModelEvent | undefined, prev?: CallSnap): string {
  // An event that changes nothing returns the same snapshot object: keep what produced it first.
  if (event && s !== prev) producedBy.set(s, event.type);
  return callStateKey(s);
}

const callNote = (
  at: number,
  changeType: NotificationEvent['changeType'],
  state: string | null,
  resultInfo: { code: number; subcode: number; message: string } | null = null,
  toneInfo: { sequenceId: number; tone: string } | null = null,
): ModelEvent => ({
  type: 'NOTIFICATION',
  at,
  changeType,
  resource: { kind: 'call', state, resultInfo, toneInfo },
});

const ENDED = { code: 200, subcode: 5001, message: 'The conversation has ended.' };
const ended = (at: number, info = ENDED) => callNote(at, 'deleted', 'terminated', info);

const operationNote = (
  at: number,
  odataType: 'recordOperation' | 'playPromptOperation',
  clientContext: string,
  operationId = MODEL_OPERATION_ID,
): ModelEvent => ({
  type: 'NOTIFICATION',
  at,
  changeType: 'deleted',
  resource: {
    kind: 'operation',
    odataType,
    operationId,
    clientContext,
    status: 'completed',
    completionReason: null,
    resultInfo: { code: 200, subcode: 0, message: 'ok' },
    recordingLocation: odataType === 'recordOperation' ? MODEL_LOCATION : null,
    hasRecording: odataType === 'recordOperation',
  },
});

function callEvents(s: CallSnap, mode: 'realizable' | 'all'): ModelEvent[] {
  if (s.status !== 'active') return [];
  const c = s.context;
  const at = c.at;
  const all = mode === 'all';
  const rec = c.records[MODEL_RECORD_ID];
  const live = !!rec && !rec.done;
  const prompt = c.prompts[MODEL_PROMPT_ID];
  const promptLive = !!prompt && !prompt.done;
  const v = flat(s.value);
  const flying = inFlight(s);
  // The request answers before anything else happens. Its success changes nothing (no
  // transition), so only its failure is a model event: paths that end here leave it to succeed.
  if (flying === 'CANCEL_MEDIA')
    return [
      {
        type: `xstate.error.actor.cancel-${c.seq.cancel}`,
        actorId: `cancel-${c.seq.cancel}`,
        error: httpError(403, at),
      },
    ];
  if (flying === 'SUBSCRIBE_TONES')
    return [
      {
        type: `xstate.error.actor.tones-${c.seq.cancel}`,
        actorId: `tones-${c.seq.cancel}`,
        error: httpError(500, at),
      },
    ];
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
    clientContext: 'bad',
    policy: { processingTimeoutMs: -1 },
  };
  const playPrompt: ModelEvent = {
    type: 'PLAY_PROMPT',
    at,
    promptId: MODEL_PROMPT_ID,
    clientContext: 'model-prompt',
    prompts: [{ uri: 'https://media.example/hello.wav' }],
  };
  // The second prompt reuses the first one's id: refused.
  const extraPrompt = prompt ? [{ ...playPrompt, clientContext: 'model-prompt-2' }] : [playPrompt];
  const childEnds = (): ModelEvent[] => [
    ...(live
      ? [
          {
            type: `xstate.done.actor.${MODEL_RECORD_ID}`,
            actorId: MODEL_RECORD_ID,
            output: { final: 'deleted', outcome: 'processed' },
          },
          ...(all
            ? [
                {
                  type: `xstate.error.actor.${MODEL_RECORD_ID}`,
                  actorId: MODEL_RECORD_ID,
                  error: { kind: 'error', message: 'crash' },
                },
                // Graph's completion, routed by clientContext to the record; the child's operation id report.
                operationNote(at, 'recordOperation', MODEL_CLIENT_CONTEXT),
                { type: 'OPERATION_STARTED', childId: MODEL_RECORD_ID, operationId: MODEL_OPERATION_ID },
              ]
            : []),
        ]
      : []),
    ...(all && promptLive
      ? [
          {
            type: `xstate.done.actor.${MODEL_PROMPT_ID}`,
            actorId: MODEL_PROMPT_ID,
            output: { promptId: MODEL_PROMPT_ID, final: 'completed', at },
          },
          {
            type: `xstate.error.actor.${MODEL_PROMPT_ID}`,
            actorId: MODEL_PROMPT_ID,
            error: { kind: 'error', message: 'crash' },
          },
          operationNote(at, 'playPromptOperation', 'model-prompt'),
        ]
      : []),
    // An operation nobody runs: reported, nothing else.
    ...(all ? [operationNote(at, 'recordOperation', 'nobody', 'other-op')] : []),
  ];
  const common = (): ModelEvent[] => [
    { type: 'RESUME', at },
    ended(at),
    { type: 'HANG_UP', at },
    ...(rec ? [] : [record]),
    badRecord,
    { type: 'CANCEL_MEDIA', at, clientContext: 'model-cancel' },
    ...(all
      ? [
          ...extraPrompt,
          { type: 'SUBSCRIBE_TONES', at, clientContext: 'model-tones' },
          // A key press, then the same one again (dropped).
          callNote(at, 'updated', 'established', null, {
            sequenceId: c.seq.lastTone + 1,
            tone: 'tone1',
          }),
          ...(c.seq.lastTone >= 0
            ? [
                callNote(at, 'updated', 'established', null, {
                  sequenceId: c.seq.lastTone,
                  tone: 'tone1',
                }),
              ]
            : []),
        ]
      : []),
  ];
  const out: ModelEvent[] = [];
  // A wait whose time has already come (back from a failed hang-up) ends at once: nothing can come first.
  if (v === 'established.active' && c.nextKeepAliveAt <= at)
    return [{ type: 'xstate.after.KEEPALIVE_INTERVAL.call.established.active' }];
  if (v === 'established.retryWait' && c.retryAt !== null && c.retryAt <= at)
    return [{ type: 'xstate.after.RETRY_DELAY.call.established.retryWait' }];
  const refusedPrompt = all ? [playPrompt] : [];
  switch (v) {
    case 'offered':
      out.push(
        { type: 'ANSWER', at },
        { type: 'REJECT', at, reason: 'busy' },
        { type: 'HANG_UP', at },
        { type: 'REDIRECT', at, targets: [{ ...MODEL_TARGET }], timeoutInSeconds: 30 },
        ended(at, { code: 487, subcode: 0, message: 'caller gave up' }),
        { type: 'xstate.after.DECISION_DEADLINE.call.offered' },
        { type: 'RESUME', at },
      );
      break;
    case 'answering':
      out.push(
        { type: 'xstate.done.actor.answer', output: { at } },
        { type: 'xstate.error.actor.answer', error: httpError(404, at) },
        { type: 'xstate.error.actor.answer', error: httpError(500, at) },
        ...(c.setup.establishedEarly ? [] : [callNote(at, 'updated', 'established')]),
        ended(at, { code: 408, subcode: 1106, message: 'answer too late' }),
        { type: 'RESUME', at },
      );
      break;
    case 'establishing':
    case 'ringing':
      out.push(
        callNote(at, 'updated', 'established'),
        ...(v === 'ringing'
          ? [
              ended(at, { code: 480, subcode: 10076, message: 'Callee could not be reached' }),
              ended(at, { code: 408, subcode: 10057, message: 'no signalling from callee' }),
            ]
          : []),
        ended(at),
        { type: `xstate.after.ESTABLISH_DEADLINE.call.${v}` },
        { type: 'HANG_UP', at },
        { type: 'RESUME', at },
      );
      break;
    case 'placing':
      out.push(
        { type: 'xstate.done.actor.placeCall', output: { callId: 'placed-call', state: 'establishing', at } },
        { type: 'xstate.error.actor.placeCall', error: httpError(403, at) },
      );
      break;
    case 'rejecting':
    case 'redirecting': {
      const id = v === 'rejecting' ? 'reject' : 'redirect';
      out.push(
        { type: `xstate.done.actor.${id}`, output: { at } },
        { type: `xstate.error.actor.${id}`, error: httpError(500, at) },
        ended(at),
        { type: 'RESUME', at },
      );
      break;
    }
    case 'established.active':
      out.push({ type: 'xstate.after.KEEPALIVE_INTERVAL.call.established.active' }, ...common());
      break;
    case 'established.keepAliveDue':
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
          { type: 'xstate.after.KEEPALIVE_DEADLINE.call.established.keepAliveDue' },
        );
      }
      out.push(...common());
      break;
    case 'established.retryWait':
      // With a retry scheduled the retry fires first; with none left the deadline does.
      out.push(
        c.retryAt === null
          ? { type: 'xstate.after.KEEPALIVE_DEADLINE.call.established.retryWait' }
          : { type: 'xstate.after.RETRY_DELAY.call.established.retryWait' },
        ...common(),
      );
      break;
    case 'terminating':
      out.push(
        { type: 'xstate.done.actor.hangUp', output: { at } },
        { type: 'xstate.error.actor.hangUp', error: httpError(404, at) },
        { type: 'xstate.error.actor.hangUp', error: httpError(403, at) },
        ended(at),
        { type: 'RESUME', at },
        { ...record, recordId: rec ? 'rec-2' : MODEL_RECORD_ID, clientContext: 'late' },
        ...refusedPrompt,
      );
      break;
    case 'draining':
      // Graph's own end notification, late: only while Graph's call still runs (we did not hang it up).
      if (c.end.reason !== 'terminated' && c.end.reason !== 'hungUp') out.push(ended(at));
      out.push(
        { type: 'xstate.after.DRAIN_TIMEOUT.call.draining' },
        { type: 'RESUME', at },
        // Rejected while ending, whatever it asks for.
        { ...record, recordId: 'rec-2', clientContext: 'late' },
        ...refusedPrompt,
      );
      break;
  }
  out.push(...childEnds());
  return out;
}

function callTraversal(mode: 'realizable' | 'all', start: CallStart): Traversal {
  return {
    machine: callMachine,
    input: callModelInput(start),
    events: (s: CallSnap) => callEvents(s, mode),
    serialize: callSerialize as never,
  };
}

/**
 * callMachine paths from one start. `shortest`: one per abstract call state
 * (value, record and prompt child none/live/done, first attempt or retry,
 * retry left or not, a request in flight, ...); `transitions`: one more per
 * transition those miss. The abstraction bounds the search: time and
 * counters collapse, one record and one prompt child, one request in flight.
 */
export function callMachinePaths(opts: PathOptions & { start?: CallStart } = {}): {
  shortest: CallPath[];
  transitions: CallPath[];
  /** Generated paths whose steps did not hold when replayed from the start (see `materialize`). */
  dropped: number;
} {
  const t = callTraversal(opts.events ?? 'realizable', opts.start ?? 'established');
  const dropped = { count: 0 };
  const sp = shortest<CallSnap>(t, dropped);
  const transitions = transitionPaths(t, sp, sp, dropped, (p) => replay(callMachine, p).transitions);
  return { shortest: sp, transitions, dropped: dropped.count };
}
