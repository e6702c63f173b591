/**
 * callMachine: keeps one Graph call alive and owns its recordings.
 * active -> keepAliveDue -> active ... ; transient failures wait in
 * retryWait, always inside the 45-minute deadline; 404, a refused keepAlive,
 * the deadline, a terminated notification or our own hang-up lead through `draining` (the
 * recordings finish downloading, processing and deleting) to `ended`.
 * Pure: time arrives as `at`; delays are computed from deadlines in context.
 */
import { assign, emit, fromPromise, setup } from 'xstate';
import type { RecordOptionsInput } from '../graph/schemas.js';
import { isEndedByBot, isKeepAliveTimeout, isRefusal, readResultInfo } from './graph-answers.js';
import { type CallPolicy, type RecordPolicy, resolveCallPolicy, resolveRecordPolicy } from './policy.js';
import { type RecordOutput, recordMachine } from './record.js';
import { asErrorJson, type ErrorJson, type ResultInfoJson } from './types.js';

/** Why a call ended; the README's "How a call ends" table says what each means for the bot. */
export type CallEndReason = 'notFound' | 'expired' | 'terminated' | 'hungUp' | 'keepAliveRefused';

export interface CallInput {
  callId: string;
  /** Start of tracking: the first 45-minute window runs from here. */
  at: number;
  policy?: Partial<CallPolicy>;
}

export interface CallOutput {
  callId: string;
  reason: CallEndReason;
  endedAt: number;
  /** Graph's resultInfo from the call's end notification, when one came before the call ended here. */
  resultInfo?: ResultInfoJson;
  /** `keepAliveRefused`: the refused request (status, Graph's code, request-id, client-request-id). */
  error?: ErrorJson;
}

export type CallEvent =
  | { type: 'TERMINATED'; at: number; resultInfo?: ResultInfoJson | null }
  | { type: 'HANG_UP'; at: number }
  | {
      type: 'RECORD';
      at: number;
      /** Child actor id; `rec-<recordSeq>` when absent. Must not name a record this call already has. */
      recordId?: string;
      clientContext: string;
      storeKey: string;
      options: RecordOptionsInput;
      policy?: Partial<RecordPolicy>;
    }
  | { type: 'CANCEL_MEDIA'; at: number; clientContext?: string }
  | { type: 'RESUME'; at: number };

/** How spawned children report back (record machines, cancelMediaProcessing requests). */
type ChildEndEvent =
  | { type: `xstate.done.actor.${string}`; output?: unknown }
  | { type: `xstate.error.actor.${string}`; error?: unknown };

export type CallEmitted =
  | { type: 'keepAlive.sent'; at: number; count: number }
  /** `retryInMs` is null when no retry fits before the deadline margin: the call will expire. */
  | { type: 'keepAlive.failed'; status?: number; code?: string; retryInMs: number | null }
  /** Graph refused a keepAlive (400, 401 after a token refresh, 403, ...): the call is no longer kept. */
  | {
      type: 'keepAlive.refused';
      status?: number;
      code?: string;
      requestId?: string;
      clientRequestId?: string;
      message?: string;
    }
  | { type: 'call.ended'; reason: CallEndReason; resultInfo?: ResultInfoJson }
  | { type: 'call.hangUpFailed'; status?: number; code?: string }
  | {
      type: 'call.recordRejected';
      recordId: string;
      reason: 'callEnding' | 'duplicateRecordId' | 'invalidPolicy';
      message?: string;
    }
  | { type: 'call.cancelMediaFailed'; status?: number; code?: string }
  /** A record child ended: `output` when it reached a final state, `error` when it crashed. */
  | { type: 'call.recordDone'; recordId: string; output: RecordOutput | undefined; error?: ErrorJson };

export interface RecordEntry {
  clientContext: string;
  storeKey: string;
  done: boolean;
}

export interface CallContext {
  callId: string;
  policy: CallPolicy;
  startedAt: number;
  /** Time of the latest timed event. */
  at: number;
  lastSuccessAt: number;
  /** Graph ends the call if no keepAlive succeeds before this. */
  deadlineAt: number;
  nextKeepAliveAt: number;
  keepAlivesSent: number;
  /** Consecutive failures since the last success. */
  failures: number;
  /** Wait chosen after the latest failure (0 before any). */
  retryDelayMs: number;
  /** When the pending retry goes out; null when none fits before the deadline margin. */
  retryAt: number | null;
  lastError: ErrorJson | null;
  endReason: CallEndReason | null;
  endedAt: number | null;
  terminationInfo: ResultInfoJson | null;
  /** Records spawned so far (names `rec-<n>` when RECORD gives no id). */
  recordSeq: number;
  /** cancelMediaProcessing requests spawned so far (children `cancel-<n>`). */
  cancelSeq: number;
  /** Every record child by its actor id (= recordId); the runtime finds them in `snapshot.children`. */
  records: Record<string, RecordEntry>;
}

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

const notProvided = (name: string) => () => {
  throw new Error(`callMachine actor '${name}' is not provided: use createCallRuntime or machine.provide()`);
};

/** Deterministic jitter in [0.5, 1): spreads retries of many calls without Math.random in a pure machine. */
function jitter(callId: string, n: number): number {
  let h = 2166136261;
  for (const ch of `${callId}:${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return 0.5 + ((h >>> 0) % 1000) / 2000;
}

/**
 * Wait before the next keepAlive attempt after `failures` consecutive failures:
 * Retry-After when given, else exponential backoff (retryBaseMs doubling up
 * to retryMaxMs) times a deterministic jitter. Clamped so the retry goes out
 * no later than `deadlineAt - finalRetryMarginMs` (losing the call is worse
 * than retrying before Retry-After); null when that moment has passed.
 */
export function retryDelay(
  ctx: Pick<CallContext, 'callId' | 'policy' | 'deadlineAt'>,
  failures: number,
  err: ErrorJson,
  at: number,
): number | null {
  const p = ctx.policy;
  const wanted =
    typeof err.retryAfterMs === 'number' && Number.isFinite(err.retryAfterMs) && err.retryAfterMs >= 0
      ? err.retryAfterMs
      : Math.min(p.retryMaxMs, p.retryBaseMs * 2 ** Math.min(30, Math.max(0, failures - 1))) *
        jitter(ctx.callId, failures);
  const latest = ctx.deadlineAt - p.finalRetryMarginMs - at;
  if (latest <= 0) return null;
  return Math.round(Math.min(wanted, latest));
}

/** Why a RECORD cannot spawn in a live state, or null when it can. */
function recordProblem(
  ctx: CallContext,
  ev: Extract<CallEvent, { type: 'RECORD' }>,
): { reason: 'duplicateRecordId' | 'invalidPolicy'; message: string } | null {
  if (ev.recordId !== undefined && Object.hasOwn(ctx.records, ev.recordId))
    return { reason: 'duplicateRecordId', message: `record ${ev.recordId} already exists on this call` };
  try {
    resolveRecordPolicy(ev.policy);
  } catch (err) {
    return { reason: 'invalidPolicy', message: err instanceof Error ? err.message : String(err) };
  }
  return null;
}

/** The child id a RECORD gets: its recordId, else the first free `rec-<n>`. */
function nextRecordId(ctx: CallContext, ev: Extract<CallEvent, { type: 'RECORD' }>) {
  if (ev.recordId !== undefined) return { id: ev.recordId, seq: ctx.recordSeq + 1 };
  let seq = ctx.recordSeq + 1;
  while (Object.hasOwn(ctx.records, `rec-${seq}`)) seq++;
  return { id: `rec-${seq}`, seq };
}

function childId(eventType: string): string {
  return eventType.startsWith(DONE_PREFIX)
    ? eventType.slice(DONE_PREFIX.length)
    : eventType.startsWith(ERROR_PREFIX)
      ? eventType.slice(ERROR_PREFIX.length)
      : '';
}

/**
 * What a live call (waiting, sending keepAlive, waiting to retry) accepts; the
 * same in each of those states but for where RESUME re-enters.
 */
function liveEvents(self: 'active' | 'keepAliveDue' | 'retryWait') {
  return {
    RESUME: {
      target: self,
      reenter: true,
      actions: ['takeTime', 'resumeRecords'],
      description:
        'After a restore: re-arm the waits from the deadlines in context; pass RESUME to the records.',
    },
    TERMINATED: {
      target: 'draining',
      actions: [{ type: 'endAs', params: { reason: 'terminated' } }, 'emitEnded'],
      description: 'Graph notified the end of the call (state terminated, or the call deleted).',
    },
    HANG_UP: {
      target: 'hangingUp',
      actions: 'takeTime',
      description: 'The bot hangs up (runtime.hangUp).',
    },
    RECORD: [
      {
        guard: 'canSpawnRecord',
        actions: 'spawnRecord',
        description: 'Start a recording: spawn a record child (its id is the record id).',
      },
      {
        actions: { type: 'emitRecordRejected', params: { ending: false } },
        description: 'Refused (record id taken, or an invalid record policy): call.recordRejected.',
      },
    ],
    CANCEL_MEDIA: {
      actions: 'spawnCancel',
      description:
        "cancelMediaProcessing: Graph fails the call's running and queued records (operationCanceled).",
    },
  } as const;
}

export const callMachine = setup({
  types: {
    context: {} as CallContext,
    input: {} as CallInput,
    events: {} as CallEvent | ChildEndEvent,
    output: {} as CallOutput,
    emitted: {} as CallEmitted,
  },
  actors: {
    sendKeepAlive: fromPromise<{ at: number }, { callId: string }>(notProvided('sendKeepAlive')),
    hangUp: fromPromise<{ at: number }, { callId: string }>(notProvided('hangUp')),
    cancelMedia: fromPromise<{ at: number }, { callId: string; clientContext?: string }>(
      notProvided('cancelMedia'),
    ),
    recordMachine,
  },
  guards: {
    isNotFound: ({ event }) => asErrorJson((event as unknown as { error: unknown }).error).status === 404,
    isRefused: ({ event }) => isRefusal(asErrorJson((event as unknown as { error: unknown }).error)),
    retryScheduled: ({ context }) => context.retryAt !== null,
    keepAliveFailing: ({ context }) => context.failures > 0,
    noLiveRecords: ({ context }) => Object.values(context.records).every((r) => r.done),
    isRecordChild: ({ context, event }) => Object.hasOwn(context.records, childId(event.type)),
    canSpawnRecord: ({ context, event }) => event.type === 'RECORD' && recordProblem(context, event) === null,
  },
  delays: {
    KEEPALIVE_INTERVAL: ({ context }) => Math.max(0, context.nextKeepAliveAt - context.at),
    KEEPALIVE_DEADLINE: ({ context }) => Math.max(0, context.deadlineAt - context.at),
    // No retry left: wait as long as the deadline (whose transition wins); the guard blocks a late retry.
    RETRY_DELAY: ({ context }) => Math.max(0, (context.retryAt ?? context.deadlineAt) - context.at),
    DRAIN_TIMEOUT: ({ context }) =>
      Math.max(0, (context.endedAt ?? context.at) + context.policy.drainTimeoutMs - context.at),
  },
  actions: {
    takeTime: assign({
      at: ({ context, event }) => Math.max(context.at, (event as { at?: number }).at ?? context.at),
    }),
    // A timer that fires carries no `at`: it fired at the instant it was armed for.
    reachKeepAliveTime: assign({ at: ({ context }) => Math.max(context.at, context.nextKeepAliveAt) }),
    reachRetryTime: assign({ at: ({ context }) => Math.max(context.at, context.retryAt ?? context.at) }),
    reachDrainEnd: assign({
      at: ({ context }) =>
        Math.max(context.at, (context.endedAt ?? context.at) + context.policy.drainTimeoutMs),
    }),
    recordSuccess: assign(({ context, event }) => {
      const at = Math.max(context.at, (event as unknown as { output: { at: number } }).output.at);
      return {
        at,
        lastSuccessAt: at,
        deadlineAt: at + context.policy.keepAliveDeadlineMs,
        nextKeepAliveAt: at + context.policy.keepAliveIntervalMs,
        keepAlivesSent: context.keepAlivesSent + 1,
        failures: 0,
        retryAt: null,
        lastError: null,
      };
    }),
    recordFailure: assign(({ context, event }) => {
      const err = asErrorJson((event as unknown as { error: unknown }).error);
      const at = Math.max(context.at, err.at ?? context.at);
      const failures = context.failures + 1;
      const wait = retryDelay(context, failures, err, at);
      return {
        at,
        failures,
        lastError: err,
        retryDelayMs: wait ?? 0,
        retryAt: wait === null ? null : at + wait,
      };
    }),
    noteHangUpError: assign(({ context, event }) => {
      const err = asErrorJson((event as unknown as { error: unknown }).error);
      return { lastError: err, at: Math.max(context.at, err.at ?? context.at) };
    }),
    endAs: assign(({ context, event }, params: { reason: CallEndReason; hangingUp?: boolean }) => {
      const e = event as { at?: number; error?: unknown; output?: { at?: number }; resultInfo?: unknown };
      const at = Math.max(context.at, e.at ?? e.output?.at ?? asErrorJson(e.error).at ?? context.at);
      const info = readResultInfo(e.resultInfo) ?? context.terminationInfo;
      // Graph's own keepAlive expiry (408/8537) is an expiry, whoever noticed it first; while we
      // hang up, Graph's "ended by bot" (its notification may beat the DELETE's 204) is our hang-up.
      const reason =
        params.reason !== 'terminated'
          ? params.reason
          : isKeepAliveTimeout(info)
            ? 'expired'
            : params.hangingUp && isEndedByBot(info)
              ? 'hungUp'
              : 'terminated';
      return {
        endReason: context.endReason ?? reason,
        endedAt: context.endedAt ?? at,
        at,
        terminationInfo: info,
      };
    }),
    // Graph's end notification after we had ended the call ourselves: its resultInfo still counts.
    noteTermination: assign({
      terminationInfo: ({ context, event }) =>
        context.terminationInfo ?? readResultInfo((event as { resultInfo?: unknown }).resultInfo),
    }),
    // The error stays in lastError: the output and call.ended report it.
    noteRefusal: assign(({ context, event }) => {
      const err = asErrorJson((event as unknown as { error: unknown }).error);
      return { lastError: err, at: Math.max(context.at, err.at ?? context.at) };
    }),
    endExpired: assign(({ context }) => ({
      endReason: context.endReason ?? ('expired' as CallEndReason),
      // The deadline itself is the moment the call was lost.
      endedAt: context.endedAt ?? Math.max(context.at, context.deadlineAt),
      at: Math.max(context.at, context.deadlineAt),
    })),
    spawnRecord: assign(({ context, event, spawn }) => {
      if (event.type !== 'RECORD') return {};
      const { id, seq } = nextRecordId(context, event);
      spawn('recordMachine', {
        id,
        input: {
          callId: context.callId,
          recordId: id,
          clientContext: event.clientContext,
          options: event.options,
          at: event.at,
          policy: event.policy,
          storeKey: event.storeKey,
        },
      });
      return {
        at: Math.max(context.at, event.at),
        recordSeq: seq,
        records: {
          ...context.records,
          [id]: { clientContext: event.clientContext, storeKey: event.storeKey, done: false },
        },
      };
    }),
    spawnCancel: assign(({ context, event, spawn }) => {
      if (event.type !== 'CANCEL_MEDIA') return {};
      spawn('cancelMedia', {
        id: `cancel-${context.cancelSeq + 1}`,
        input: { callId: context.callId, clientContext: event.clientContext },
      });
      return { cancelSeq: context.cancelSeq + 1, at: Math.max(context.at, event.at) };
    }),
    markRecordDone: assign({
      records: ({ context, event }) => {
        const id = childId(event.type);
        const entry = context.records[id];
        return entry ? { ...context.records, [id]: { ...entry, done: true } } : context.records;
      },
    }),
    // Sends to live record children (looked up by their stable ids; a finished one is skipped).
    tellRecordsCallEnded: ({ context, self }) => {
      const children = self.getSnapshot().children as Record<string, { send(e: unknown): void } | undefined>;
      for (const [id, entry] of Object.entries(context.records)) {
        if (!entry.done) children[id]?.send({ type: 'CALL_ENDED', at: context.endedAt ?? context.at });
      }
    },
    // Restored children lost their timers too: pass RESUME on.
    resumeRecords: ({ context, self }) => {
      const children = self.getSnapshot().children as Record<string, { send(e: unknown): void } | undefined>;
      for (const [id, entry] of Object.entries(context.records)) {
        if (!entry.done) children[id]?.send({ type: 'RESUME', at: context.at });
      }
    },
    emitSent: emit(({ context }) => ({
      type: 'keepAlive.sent' as const,
      at: context.lastSuccessAt,
      count: context.keepAlivesSent,
    })),
    emitFailed: emit(({ context }) => ({
      type: 'keepAlive.failed' as const,
      status: context.lastError?.status,
      code: context.lastError?.code,
      retryInMs: context.retryAt === null ? null : context.retryDelayMs,
    })),
    emitEnded: emit(({ context }) => ({
      type: 'call.ended' as const,
      reason: context.endReason ?? 'terminated',
      ...(context.terminationInfo ? { resultInfo: context.terminationInfo } : {}),
    })),
    emitRefused: emit(({ context }) => {
      const e = context.lastError ?? {};
      return {
        type: 'keepAlive.refused' as const,
        status: e.status,
        code: e.code,
        requestId: e.requestId,
        clientRequestId: e.clientRequestId,
        message: e.message,
      };
    }),
    emitHangUpFailed: emit(({ context }) => ({
      type: 'call.hangUpFailed' as const,
      status: context.lastError?.status,
      code: context.lastError?.code,
    })),
    emitRecordRejected: emit(({ context, event }, params: { ending: boolean }) => {
      const recordId = event.type === 'RECORD' ? (event.recordId ?? '') : '';
      const problem = !params.ending && event.type === 'RECORD' ? recordProblem(context, event) : null;
      return {
        type: 'call.recordRejected' as const,
        recordId,
        reason: problem?.reason ?? ('callEnding' as const),
        ...(problem ? { message: problem.message } : {}),
      };
    }),
    emitCancelFailed: emit(({ event }) => {
      const err = asErrorJson((event as unknown as { error: unknown }).error);
      return { type: 'call.cancelMediaFailed' as const, status: err.status, code: err.code };
    }),
    emitRecordDone: emit(({ event }) => {
      const e = event as unknown as { output?: RecordOutput; error?: unknown };
      return {
        type: 'call.recordDone' as const,
        recordId: childId(event.type),
        output: e.output,
        ...(event.type.startsWith(ERROR_PREFIX) ? { error: asErrorJson(e.error) } : {}),
      };
    }),
  },
}).createMachine({
  id: 'call',
  description: 'One Graph call: keepAlive inside the 45-minute rule, its recordings, and a clean end.',
  // The final state's output arrives on the done event (reading `self` here would see the previous snapshot).
  output: ({ event }) => (event as unknown as { output: CallOutput }).output,
  context: ({ input }) => {
    const policy = resolveCallPolicy(input.policy);
    return {
      callId: input.callId,
      policy,
      startedAt: input.at,
      at: input.at,
      lastSuccessAt: input.at,
      deadlineAt: input.at + policy.keepAliveDeadlineMs,
      nextKeepAliveAt: input.at + policy.keepAliveIntervalMs,
      keepAlivesSent: 0,
      failures: 0,
      retryDelayMs: 0,
      retryAt: null,
      lastError: null,
      endReason: null,
      endedAt: null,
      terminationInfo: null,
      recordSeq: 0,
      cancelSeq: 0,
      records: {},
    };
  },
  // Children report their end here in every state, so draining knows when it is done.
  on: {
    'xstate.done.actor.*': {
      guard: 'isRecordChild',
      actions: ['markRecordDone', 'emitRecordDone'],
      description: 'A record child reached deleted or failed: marked done, call.recordDone with its output.',
    },
    'xstate.error.actor.*': [
      {
        guard: 'isRecordChild',
        actions: ['markRecordDone', 'emitRecordDone'],
        description: 'A record child crashed: marked done, call.recordDone with the error.',
      },
      {
        actions: 'emitCancelFailed',
        description: 'A cancelMediaProcessing request failed: call.cancelMediaFailed; nothing else changes.',
      },
    ],
  },
  initial: 'active',
  states: {
    active: {
      tags: ['live'],
      description: 'Waiting for the next keepAlive (15 min after the last success by default).',
      after: {
        KEEPALIVE_INTERVAL: {
          target: 'keepAliveDue',
          actions: 'reachKeepAliveTime',
          description: 'The interval after the last success (or the start) is up.',
        },
      },
      on: liveEvents('active'),
    },
    keepAliveDue: {
      tags: ['live'],
      description:
        'POST keepAlive; 404 means the call is gone. Gives up at the 45-minute deadline. (RESUME re-sends it: keepAlive is idempotent.)',
      invoke: {
        id: 'keepAlive',
        src: 'sendKeepAlive',
        input: ({ context }) => ({ callId: context.callId }),
        onDone: {
          target: 'active',
          actions: ['recordSuccess', 'emitSent'],
          description: '200: a new 45-minute window starts now.',
        },
        onError: [
          {
            guard: 'isNotFound',
            target: 'draining',
            actions: [{ type: 'endAs', params: { reason: 'notFound' } }, 'emitEnded'],
            description: '404: Graph no longer knows the call.',
          },
          {
            guard: 'isRefused',
            target: 'draining',
            actions: [
              'noteRefusal',
              { type: 'endAs', params: { reason: 'keepAliveRefused' } },
              'emitRefused',
              'emitEnded',
            ],
            description:
              '400, 401 after a token refresh, 403 (another 4xx but 404/408/429): retrying cannot help; stop now.',
          },
          {
            target: 'retryWait',
            actions: ['recordFailure', 'emitFailed'],
            description: '429, 5xx, network error, timeout: wait for Retry-After or backoff.',
          },
        ],
      },
      after: {
        KEEPALIVE_DEADLINE: {
          target: 'draining',
          actions: ['endExpired', 'emitEnded'],
          description: '45 minutes without a successful keepAlive: Graph has dropped the call.',
        },
      },
      on: liveEvents('keepAliveDue'),
    },
    retryWait: {
      tags: ['live'],
      description:
        'A keepAlive failed transiently; retry after Retry-After or backoff, at the latest 30 s before the deadline.',
      after: {
        KEEPALIVE_DEADLINE: {
          target: 'draining',
          actions: ['endExpired', 'emitEnded'],
          description: '45 minutes without a successful keepAlive: Graph has dropped the call.',
        },
        RETRY_DELAY: {
          guard: 'retryScheduled',
          target: 'keepAliveDue',
          actions: 'reachRetryTime',
          description: 'Retry now (no retry is scheduled once inside the deadline margin).',
        },
      },
      on: liveEvents('retryWait'),
    },
    hangingUp: {
      tags: ['live'],
      description:
        'DELETE the call (204); a 404 means it was already gone. Another error resumes keepAlives.',
      invoke: {
        id: 'hangUp',
        src: 'hangUp',
        input: ({ context }) => ({ callId: context.callId }),
        onDone: {
          target: 'draining',
          actions: [{ type: 'endAs', params: { reason: 'hungUp' } }, 'emitEnded'],
          description: '204: the call is gone.',
        },
        onError: [
          {
            guard: 'isNotFound',
            target: 'draining',
            actions: [{ type: 'endAs', params: { reason: 'hungUp' } }, 'emitEnded'],
            description: '404: it was already gone.',
          },
          // Back where keepAlive stood: a retry schedule (and its Retry-After) survives a failed hang-up.
          {
            guard: 'keepAliveFailing',
            target: 'retryWait',
            actions: ['noteHangUpError', 'emitHangUpFailed'],
            description: 'The DELETE failed while keepAlives were failing: back to the retry schedule.',
          },
          {
            target: 'active',
            actions: ['noteHangUpError', 'emitHangUpFailed'],
            description: 'The DELETE failed: call.hangUpFailed, keepAlives go on.',
          },
        ],
      },
      on: {
        TERMINATED: {
          target: 'draining',
          actions: [{ type: 'endAs', params: { reason: 'terminated', hangingUp: true } }, 'emitEnded'],
          description:
            'Graph notified the end of the call: hungUp when it says the bot ended it (200/7000, 200/10550).',
        },
        RECORD: {
          actions: { type: 'emitRecordRejected', params: { ending: true } },
          description: 'Refused: the call is ending.',
        },
        RESUME: {
          actions: ['takeTime', 'resumeRecords'],
          description: 'After a restore: the DELETE was re-sent on restore; pass RESUME to the records.',
        },
      },
    },
    draining: {
      description:
        'The call is over; its recordings finish (download, process, delete) before it ends, within the drain timeout.',
      entry: 'tellRecordsCallEnded',
      always: { guard: 'noLiveRecords', target: 'ended', description: 'Every record has finished.' },
      after: {
        DRAIN_TIMEOUT: {
          target: 'ended',
          actions: 'reachDrainEnd',
          description: 'Records still running are stopped; each deletes what it stored.',
        },
      },
      on: {
        TERMINATED: {
          actions: 'noteTermination',
          description: "Graph's end notification came after the end: its resultInfo goes in the output.",
        },
        RECORD: {
          actions: { type: 'emitRecordRejected', params: { ending: true } },
          description: 'Refused: the call is ending.',
        },
        RESUME: {
          target: 'draining',
          reenter: true,
          actions: ['takeTime', 'resumeRecords'],
          description: 'After a restore: re-arm the drain timeout; tell the records again.',
        },
      },
    },
    ended: {
      type: 'final',
      description: 'Final. Any record still running is stopped here and its guard deletes its clip.',
      output: ({ context }) => {
        const out: CallOutput = {
          callId: context.callId,
          reason: context.endReason ?? 'terminated',
          endedAt: context.endedAt ?? context.at,
        };
        if (context.terminationInfo) out.resultInfo = context.terminationInfo;
        if (context.endReason === 'keepAliveRefused' && context.lastError) out.error = context.lastError;
        return out;
      },
    },
  },
});

export type CallMachine = typeof callMachine;
