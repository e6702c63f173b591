/**
 * recordMachine: one recording from request to purge.
 * requesting -> recording -> completed -> holdingClip(downloading -> downloaded
 * -> processing -> deleting) -> deleted. Anything that stored bytes passes
 * `deleting`; failures with nothing stored end in `failed`.
 * Pure: time arrives as `at` in events and actor outputs; delays are computed
 * from absolute deadlines in context, so they are exact on simulated time and
 * re-armed by RESUME after a restore.
 */
import { and, assign, emit, fromCallback, fromPromise, setup } from 'xstate';
import type { RecordOptionsInput } from '../graph/schemas.js';
import { completionReasonFromResult, readResultInfo } from './graph-answers.js';
import { completionWindowMs, type RecordPolicy, resolveRecordPolicy } from './policy.js';
import { asErrorJson, type Completion, type ErrorJson, normalizeOpId, type ResultInfoJson } from './types.js';

export interface RecordInput {
  callId: string;
  recordId: string;
  /** Unique per record: lets a completion that beats the POST's answer find its record. */
  clientContext: string;
  options: RecordOptionsInput;
  at: number;
  policy?: Partial<RecordPolicy>;
  /** Key of the clip in the RecordingStore. */
  storeKey: string;
}

export type RecordOutcome =
  | 'processed'
  | 'downloadFailed'
  | 'processingFailed'
  | 'processingTimeout'
  | 'operationFailed'
  | 'requestFailed'
  | 'invalidOptions'
  | 'completionTimeout'
  | 'callEnded';

export interface RecordOutput {
  callId: string;
  recordId: string;
  clientContext: string;
  operationId?: string;
  final: 'deleted' | 'failed';
  outcome: RecordOutcome;
  completionReason?: string;
  resultInfo?: ResultInfoJson;
  bytes?: number;
  error?: ErrorJson;
  summary?: unknown;
  at: number;
}

export type RecordEvent = Completion | { type: 'CALL_ENDED'; at: number } | { type: 'RESUME'; at: number };

export interface StartRecordOutput {
  operationId: string;
  status: string;
  at: number;
  /** Present when the POST's answer was already terminal (no notification follows). */
  completion?: Completion;
}

export interface ProcessClipInput {
  callId: string;
  recordId: string;
  operationId: string;
  storeKey: string;
  bytes: number;
  completionReason: string | null;
  resultInfo: ResultInfoJson | null;
  clientContext: string;
  /** When the processing timeout fires (clock ms): on simulated time the handler holds the clock until then at most. */
  processingDeadlineAt: number | null;
}

export type RecordEmitted =
  | { type: 'record.started'; recordId: string; operationId: string }
  | { type: 'record.completed'; recordId: string; completionReason: string | null }
  | { type: 'record.downloaded'; recordId: string; bytes: number }
  | { type: 'record.processed'; recordId: string }
  | { type: 'record.deleted'; recordId: string }
  | { type: 'record.failed'; recordId: string; outcome: RecordOutcome }
  | { type: 'record.deleteFailed'; recordId: string; attempt: number; error: ErrorJson }
  /** The clip guard could not start: a clip would survive an outside stop. */
  | { type: 'record.guardFailed'; recordId: string; error: ErrorJson };

export interface RecordContext {
  callId: string;
  recordId: string;
  clientContext: string;
  storeKey: string;
  options: RecordOptionsInput;
  policy: RecordPolicy;
  /** Time of the latest timed event. */
  at: number;
  requestedAt: number;
  /** When the completion notification is given up on. */
  completionDeadlineAt: number;
  callEndedAt: number | null;
  operationId: string | null;
  /** A completion that arrived before the POST's answer. */
  early: Completion | null;
  status: string | null;
  completionReason: string | null;
  resultInfo: ResultInfoJson | null;
  recordingLocation: string | null;
  bytes: number | null;
  processingDeadlineAt: number | null;
  outcome: RecordOutcome | null;
  error: ErrorJson | null;
  summary: unknown;
  deleteAttempts: number;
}

const notProvided = (name: string) => () => {
  throw new Error(
    `recordMachine actor '${name}' is not provided: use createCallRuntime or machine.provide()`,
  );
};

/** completed/failed (any case); notStarted/running are progress, not an end. */
function isTerminal(status: string | null | undefined): boolean {
  const s = (status ?? '').toLowerCase();
  return s === 'completed' || s === 'failed';
}

function isSuccess(c: Completion | null | undefined): boolean {
  return !!c && c.status.toLowerCase() === 'completed' && c.hasRecording && !!c.recordingLocation;
}

/** Only the fields the machine needs: whatever else the sender attached (a token) stays out of context. */
function sanitize(c: Completion): Completion {
  return {
    type: 'OPERATION_COMPLETED',
    at: c.at,
    operationId: c.operationId,
    clientContext: c.clientContext ?? null,
    status: c.status,
    completionReason: c.completionReason ?? null,
    resultInfo: readResultInfo(c.resultInfo),
    recordingLocation: c.recordingLocation ?? null,
    hasRecording: c.hasRecording,
  };
}

function matches(ctx: RecordContext, c: Completion, operationId: string | null): boolean {
  if (operationId && normalizeOpId(c.operationId) === normalizeOpId(operationId)) return true;
  return !operationId && !!c.clientContext && c.clientContext === ctx.clientContext;
}

/** The completion to apply right after the POST's answer, if any. */
function completionAfterResponse(ctx: RecordContext, out: StartRecordOutput): Completion | null {
  if (out.completion) return out.completion;
  if (isTerminal(out.status))
    // Terminal answer without its details: nothing to download, no notification follows.
    return {
      type: 'OPERATION_COMPLETED',
      at: out.at,
      operationId: out.operationId,
      status: out.status,
      hasRecording: false,
    };
  if (
    ctx.early &&
    (matches(ctx, ctx.early, out.operationId) || ctx.early.clientContext === ctx.clientContext)
  )
    return ctx.early;
  return null;
}

/** What the machine keeps of a completion; a missing completionReason is derived from resultInfo when documented. */
function completionFields(c: Completion) {
  const resultInfo = readResultInfo(c.resultInfo);
  return {
    status: c.status,
    completionReason: c.completionReason || completionReasonFromResult(resultInfo),
    resultInfo,
    recordingLocation: c.recordingLocation ?? null,
  };
}

function output(ctx: RecordContext, final: 'deleted' | 'failed'): RecordOutput {
  const out: RecordOutput = {
    callId: ctx.callId,
    recordId: ctx.recordId,
    clientContext: ctx.clientContext,
    final,
    outcome: ctx.outcome ?? (final === 'deleted' ? 'processed' : 'operationFailed'),
    at: ctx.at,
  };
  if (ctx.operationId) out.operationId = ctx.operationId;
  if (ctx.completionReason) out.completionReason = ctx.completionReason;
  if (ctx.resultInfo) out.resultInfo = ctx.resultInfo;
  if (ctx.bytes !== null) out.bytes = ctx.bytes;
  if (ctx.error) out.error = ctx.error;
  if (ctx.summary !== undefined && ctx.summary !== null) out.summary = ctx.summary;
  return out;
}

export const recordMachine = setup({
  types: {
    context: {} as RecordContext,
    input: {} as RecordInput,
    events: {} as RecordEvent,
    output: {} as RecordOutput,
    emitted: {} as RecordEmitted,
  },
  actors: {
    startRecord: fromPromise<
      StartRecordOutput,
      { callId: string; clientContext: string; options: RecordOptionsInput }
    >(notProvided('startRecord')),
    downloadRecording: fromPromise<
      { bytes: number; at: number },
      { callId: string; operationId: string; recordingLocation: string; storeKey: string }
    >(notProvided('downloadRecording')),
    processClip: fromPromise<{ at: number; summary?: unknown }, ProcessClipInput>(notProvided('processClip')),
    deleteClip: fromPromise<{ at: number }, { storeKey: string }>(notProvided('deleteClip')),
    clipGuard: fromCallback<{ type: 'noop' }, { storeKey: string }>(notProvided('clipGuard')),
  },
  guards: {
    responseSucceeded: ({ context, event }) =>
      isSuccess(completionAfterResponse(context, (event as unknown as { output: StartRecordOutput }).output)),
    responseFailed: ({ context, event }) =>
      completionAfterResponse(context, (event as unknown as { output: StartRecordOutput }).output) !== null,
    // Rejected by our own validation, or by Graph with 400 (a service with tighter limits than ours).
    invalidOptions: ({ event }) => {
      const err = asErrorJson((event as unknown as { error: unknown }).error);
      return err.kind === 'invalidRequest' || (err.kind === 'http' && err.status === 400);
    },
    completionSucceeded: ({ context, event }) =>
      event.type === 'OPERATION_COMPLETED' &&
      matches(context, event, context.operationId) &&
      isSuccess(event),
    completionForThisOperation: ({ context, event }) =>
      event.type === 'OPERATION_COMPLETED' &&
      isTerminal(event.status) &&
      matches(context, event, context.operationId),
    // The POST got no answer in time: Graph may have started the operation all the same.
    outcomeUnknown: ({ event }) =>
      asErrorJson((event as unknown as { error: unknown }).error).kind === 'timeout',
    earlyIsOurs: ({ context }) => context.early?.clientContext === context.clientContext,
    earlySucceeded: ({ context }) => isSuccess(context.early),
  },
  delays: {
    // The earlier of the completion deadline and, once the call ended, the grace after it.
    COMPLETION_TIMEOUT: ({ context }) => {
      const graceEnd =
        context.callEndedAt === null
          ? Number.POSITIVE_INFINITY
          : context.callEndedAt + context.policy.callEndGraceMs;
      return Math.max(0, Math.min(context.completionDeadlineAt, graceEnd) - context.at);
    },
    PROCESSING_TIMEOUT: ({ context }) =>
      Math.max(0, (context.processingDeadlineAt ?? context.at) - context.at),
    DELETE_RETRY: ({ context }) =>
      Math.min(60_000, context.policy.deleteRetryMs * 2 ** Math.max(0, context.deleteAttempts - 1)),
  },
  actions: {
    takeTime: assign({
      at: ({ context, event }) => Math.max(context.at, (event as { at?: number }).at ?? context.at),
    }),
    // Keeps the first terminal completion, preferring one that names our clientContext.
    bufferEarly: assign({
      early: ({ context, event }) => {
        if (event.type !== 'OPERATION_COMPLETED' || !isTerminal(event.status)) return context.early;
        const ours = (c: Completion | null) => !!c && c.clientContext === context.clientContext;
        return !context.early || (!ours(context.early) && ours(event)) ? sanitize(event) : context.early;
      },
    }),
    noteCallEnded: assign({
      callEndedAt: ({ context, event }) => context.callEndedAt ?? (event as { at: number }).at,
      at: ({ context, event }) => Math.max(context.at, (event as { at: number }).at),
    }),
    acceptResponse: assign(({ context, event }) => {
      const out = (event as unknown as { output: StartRecordOutput }).output;
      const done = completionAfterResponse(context, out);
      return {
        operationId: out.operationId,
        at: Math.max(context.at, out.at),
        early: null,
        ...(done ? completionFields(done) : {}),
      };
    }),
    acceptCompletion: assign(({ context, event }) => {
      if (event.type !== 'OPERATION_COMPLETED') return {};
      return {
        ...completionFields(event),
        at: Math.max(context.at, event.at),
        // After a POST that timed out, the operation id arrives with the completion; the POST's error is moot.
        ...(context.operationId ? {} : { operationId: event.operationId, outcome: null, error: null }),
      };
    }),
    // A POST that timed out, with its completion already buffered: take the completion as the answer.
    acceptEarly: assign(({ context }) =>
      context.early
        ? {
            ...completionFields(context.early),
            operationId: context.early.operationId,
            early: null,
            outcome: null,
            error: null,
          }
        : {},
    ),
    failWith: assign((_, params: { outcome: RecordOutcome }) => ({ outcome: params.outcome })),
    failWithError: assign(({ context, event }, params: { outcome: RecordOutcome }) => {
      const error = asErrorJson((event as unknown as { error: unknown }).error);
      return { outcome: params.outcome, error, at: Math.max(context.at, error.at ?? context.at) };
    }),
    // Fired at the earlier of the completion deadline and the end of the grace after the call ended.
    timeoutOutcome: assign(({ context }) => {
      const graceEnd =
        context.callEndedAt === null
          ? Number.POSITIVE_INFINITY
          : context.callEndedAt + context.policy.callEndGraceMs;
      return {
        // A POST that timed out and was never followed by a completion stays requestFailed.
        outcome: (context.outcome === 'requestFailed'
          ? 'requestFailed'
          : graceEnd < context.completionDeadlineAt
            ? 'callEnded'
            : 'completionTimeout') as RecordOutcome,
        at: Math.max(context.at, Math.min(context.completionDeadlineAt, graceEnd)),
      };
    }),
    processingTimedOut: assign(({ context }) => ({
      outcome: 'processingTimeout' as RecordOutcome,
      at: Math.max(context.at, context.processingDeadlineAt ?? context.at),
    })),
    takeOutputTime: assign({
      at: ({ context, event }) =>
        Math.max(context.at, (event as unknown as { output?: { at?: number } }).output?.at ?? context.at),
    }),
    acceptDownload: assign(({ context, event }) => {
      const out = (event as unknown as { output: { bytes: number; at: number } }).output;
      return {
        bytes: out.bytes,
        at: Math.max(context.at, out.at),
        processingDeadlineAt: Math.max(context.at, out.at) + context.policy.processingTimeoutMs,
      };
    }),
    acceptProcessed: assign(({ context, event }) => {
      const out = (event as unknown as { output: { at: number; summary?: unknown } }).output;
      return {
        outcome: 'processed' as RecordOutcome,
        summary: out.summary ?? null,
        at: Math.max(context.at, out.at),
      };
    }),
    countDeleteFailure: assign(({ context, event }) => {
      const error = asErrorJson((event as unknown as { error: unknown }).error);
      return {
        deleteAttempts: context.deleteAttempts + 1,
        at: Math.max(context.at, error.at ?? context.at),
      };
    }),
    emitStarted: emit(({ context }) => ({
      type: 'record.started' as const,
      recordId: context.recordId,
      operationId: context.operationId ?? '',
    })),
    emitCompleted: emit(({ context }) => ({
      type: 'record.completed' as const,
      recordId: context.recordId,
      completionReason: context.completionReason,
    })),
    emitDownloaded: emit(({ context }) => ({
      type: 'record.downloaded' as const,
      recordId: context.recordId,
      bytes: context.bytes ?? 0,
    })),
    emitProcessed: emit(({ context }) => ({ type: 'record.processed' as const, recordId: context.recordId })),
    emitDeleted: emit(({ context }) => ({ type: 'record.deleted' as const, recordId: context.recordId })),
    emitFailed: emit(({ context }) => ({
      type: 'record.failed' as const,
      recordId: context.recordId,
      outcome: context.outcome ?? 'operationFailed',
    })),
    emitDeleteFailed: emit(({ context, event }) => ({
      type: 'record.deleteFailed' as const,
      recordId: context.recordId,
      attempt: context.deleteAttempts,
      error: asErrorJson((event as unknown as { error: unknown }).error),
    })),
    emitGuardFailed: emit(({ context, event }) => ({
      type: 'record.guardFailed' as const,
      recordId: context.recordId,
      error: asErrorJson((event as unknown as { error: unknown }).error),
    })),
  },
}).createMachine({
  id: 'record',
  description: 'One recording: request, wait for the completion notification, download, process, delete.',
  // The final state's output arrives on the done event (reading `self` here would see the previous snapshot).
  output: ({ event }) => (event as unknown as { output: RecordOutput }).output,
  context: ({ input }) => {
    const policy = resolveRecordPolicy(input.policy);
    return {
      callId: input.callId,
      recordId: input.recordId,
      clientContext: input.clientContext,
      storeKey: input.storeKey,
      options: input.options,
      policy,
      at: input.at,
      requestedAt: input.at,
      completionDeadlineAt: input.at + completionWindowMs(input.options, policy),
      callEndedAt: null,
      operationId: null,
      early: null,
      status: null,
      completionReason: null,
      resultInfo: null,
      recordingLocation: null,
      bytes: null,
      processingDeadlineAt: null,
      outcome: null,
      error: null,
      summary: null,
      deleteAttempts: 0,
    };
  },
  // CALL_ENDED only changes requesting and recording; elsewhere it is noted and the clip still runs its course.
  on: {
    CALL_ENDED: {
      actions: 'noteCallEnded',
      description: 'The call ended while the clip is handled: noted; the clip still runs its course.',
    },
  },
  initial: 'requesting',
  states: {
    requesting: {
      tags: ['operation'],
      description: 'POST record (beta) / recordResponse (v1.0); options were validated first.',
      invoke: {
        id: 'startRecord',
        src: 'startRecord',
        input: ({ context }) => ({
          callId: context.callId,
          clientContext: context.clientContext,
          options: context.options,
        }),
        onDone: [
          {
            guard: 'responseSucceeded',
            target: 'completed',
            actions: ['acceptResponse', 'emitStarted'],
            description:
              'Already completed with a recording (in the answer, or a completion that overtook it).',
          },
          {
            guard: 'responseFailed',
            target: 'failed',
            actions: [
              'acceptResponse',
              'emitStarted',
              { type: 'failWith', params: { outcome: 'operationFailed' } },
            ],
            description: 'Already failed (in the answer, or a completion that overtook it).',
          },
          {
            target: 'recording',
            actions: ['acceptResponse', 'emitStarted'],
            description: '200 with a running recordOperation.',
          },
        ],
        onError: [
          {
            guard: 'invalidOptions',
            target: 'failed',
            actions: { type: 'failWithError', params: { outcome: 'invalidOptions' } },
            description: 'Options refused: by our validation, or by Graph with 400.',
          },
          // No answer in time: the operation may be running, so its completion (found by
          // clientContext) is still awaited; without one the record ends requestFailed.
          {
            guard: and(['outcomeUnknown', 'earlyIsOurs', 'earlySucceeded']),
            target: 'completed',
            actions: 'acceptEarly',
            description: 'Timed out, but its successful completion already came: take it.',
          },
          {
            guard: and(['outcomeUnknown', 'earlyIsOurs']),
            target: 'failed',
            actions: ['acceptEarly', { type: 'failWith', params: { outcome: 'operationFailed' } }],
            description: 'Timed out, and its failed completion already came.',
          },
          {
            guard: 'outcomeUnknown',
            target: 'recording',
            actions: { type: 'failWithError', params: { outcome: 'requestFailed' } },
            description: 'Timed out: Graph may have started it; wait for a completion by clientContext.',
          },
          {
            target: 'failed',
            actions: { type: 'failWithError', params: { outcome: 'requestFailed' } },
            description: 'Any other error (403, 5xx, network): nothing was recorded.',
          },
        ],
      },
      on: {
        OPERATION_COMPLETED: {
          actions: 'bufferEarly',
          description: 'A completion overtook the POST answer: kept until the answer names its operation.',
        },
        CALL_ENDED: {
          actions: 'noteCallEnded',
          description: 'Noted: the grace after the call end applies later.',
        },
        RESUME: { actions: 'takeTime', description: 'After a restore (the POST is not sent again).' },
      },
    },
    recording: {
      tags: ['operation'],
      description:
        'Graph is recording; waits for the completion notification, never forever (Graph may send none after a hang-up).',
      after: {
        COMPLETION_TIMEOUT: {
          target: 'failed',
          actions: 'timeoutOutcome',
          description:
            'No completion by prompt + beep + timeouts + margin, or within the grace after the call ended.',
        },
      },
      on: {
        OPERATION_COMPLETED: [
          {
            guard: 'completionSucceeded',
            target: 'completed',
            actions: 'acceptCompletion',
            description: 'Completed with a recordingLocation and an access token.',
          },
          {
            guard: 'completionForThisOperation',
            target: 'failed',
            actions: ['acceptCompletion', { type: 'failWith', params: { outcome: 'operationFailed' } }],
            description: 'Failed, or completed with nothing to fetch (silence, cancelled, hang-up).',
          },
        ],
        CALL_ENDED: {
          target: 'recording',
          reenter: true,
          actions: 'noteCallEnded',
          description: 'The call ended: wait only the grace for the completion (Graph may send none).',
        },
        RESUME: {
          target: 'recording',
          reenter: true,
          actions: 'takeTime',
          description: 'After a restore: re-arm the timeout at its original deadline.',
        },
      },
    },
    completed: {
      description:
        'The operation completed with a recordingLocation; download it at once (Graph discards it soon).',
      entry: 'emitCompleted',
      always: { target: 'holdingClip', description: 'Download at once.' },
    },
    holdingClip: {
      description: 'Bytes may be in the store: every way out of here deletes them.',
      tags: ['media'],
      invoke: {
        id: 'clipGuard',
        src: 'clipGuard',
        input: ({ context }) => ({ storeKey: context.storeKey }),
        // The normal paths still delete; only an outside stop would leave the clip behind.
        onError: {
          actions: 'emitGuardFailed',
          description: 'The guard could not start: record.guardFailed.',
        },
      },
      initial: 'downloading',
      states: {
        downloading: {
          description: 'Streams the clip with its recordingAccessToken into the RecordingStore.',
          tags: ['media'],
          invoke: {
            id: 'downloadRecording',
            src: 'downloadRecording',
            input: ({ context }) => ({
              callId: context.callId,
              operationId: context.operationId ?? '',
              recordingLocation: context.recordingLocation ?? '',
              storeKey: context.storeKey,
            }),
            onDone: {
              target: 'downloaded',
              actions: 'acceptDownload',
              description: 'The whole clip is stored.',
            },
            onError: {
              target: 'deleting',
              actions: { type: 'failWithError', params: { outcome: 'downloadFailed' } },
              description: 'Download failed: delete whatever part was stored.',
            },
          },
        },
        downloaded: {
          description: 'The whole clip is in the store.',
          tags: ['media'],
          entry: 'emitDownloaded',
          always: { target: 'processing', description: "Hand the clip to the user's handler." },
        },
        processing: {
          description: "The user's handler reads the clip, within the processing timeout.",
          tags: ['media'],
          invoke: {
            id: 'processClip',
            src: 'processClip',
            input: ({ context }) => ({
              callId: context.callId,
              recordId: context.recordId,
              operationId: context.operationId ?? '',
              storeKey: context.storeKey,
              bytes: context.bytes ?? 0,
              completionReason: context.completionReason,
              resultInfo: context.resultInfo,
              clientContext: context.clientContext,
              processingDeadlineAt: context.processingDeadlineAt,
            }),
            onDone: {
              target: 'deleting',
              actions: ['acceptProcessed', 'emitProcessed'],
              description: 'The handler returned: keep its summary, delete the clip.',
            },
            onError: {
              target: 'deleting',
              actions: { type: 'failWithError', params: { outcome: 'processingFailed' } },
              description: 'The handler threw: delete the clip all the same.',
            },
          },
          // The timeout lives in a child state so RESUME re-arms it without re-running the handler.
          initial: 'running',
          states: {
            running: {
              description: 'Handler running; leaving processing stops it and fires its AbortSignal.',
              tags: ['media'],
              after: {
                PROCESSING_TIMEOUT: {
                  target: '#record.holdingClip.deleting',
                  actions: 'processingTimedOut',
                  description: 'The handler ran too long: abort it (its signal fires) and delete the clip.',
                },
              },
              on: {
                RESUME: {
                  target: 'running',
                  reenter: true,
                  actions: 'takeTime',
                  description: 'After a restore: re-arm the timeout; the handler is not run again.',
                },
              },
            },
          },
        },
        deleting: {
          description: 'Purges the local copy: call media must not be persisted.',
          tags: ['media'],
          initial: 'trying',
          states: {
            trying: {
              description: 'One delete attempt.',
              tags: ['media'],
              invoke: {
                id: 'deleteClip',
                src: 'deleteClip',
                input: ({ context }) => ({ storeKey: context.storeKey }),
                onDone: {
                  target: '#record.deleted',
                  actions: 'takeOutputTime',
                  description: 'Gone from the store.',
                },
                onError: {
                  target: 'waiting',
                  actions: ['countDeleteFailure', 'emitDeleteFailed'],
                  description: 'The store refused: record.deleteFailed, try again later.',
                },
              },
            },
            waiting: {
              description: 'Backoff (doubling, capped at 60 s) before the next attempt; never gives up.',
              tags: ['media'],
              after: { DELETE_RETRY: { target: 'trying', description: 'Try the delete again.' } },
              // After a restore the backoff timer is gone: try again at once.
              on: {
                RESUME: {
                  target: 'trying',
                  actions: 'takeTime',
                  description: 'After a restore the backoff timer is gone: try again at once.',
                },
              },
            },
          },
        },
      },
    },
    deleted: {
      type: 'final',
      description: 'The clip was processed (or given up on) and its bytes deleted.',
      entry: 'emitDeleted',
      output: ({ context }) => output(context, 'deleted'),
    },
    failed: {
      type: 'final',
      description:
        'Ended with nothing stored: the operation failed, the request failed, or no completion came.',
      entry: 'emitFailed',
      output: ({ context }) => output(context, 'failed'),
    },
  },
});

export type RecordMachine = typeof recordMachine;
