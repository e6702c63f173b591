/**
 * The record machine's named parts: actors (provided by the runtime), guards,
 * delays and actions. XState's own done/error events of the fixed children
 * are part of the event type, so every guard and action reads them typed.
 */
import {
  and,
  assign,
  type DoneActorEvent,
  type ErrorActorEvent,
  emit,
  enqueueActions,
  fromCallback,
  fromPromise,
  setup,
} from 'xstate';
import { completionWindowMs, resolveRecordPolicy } from '../policy.js';
import { asErrorJson, type Completion, phantom, timeOf } from '../types.js';
import {
  completionAfterResponse,
  completionFields,
  completionWaitEnd,
  isSuccess,
  isTerminal,
  matches,
  recordOutput,
  sanitize,
} from './logic.js';
import type {
  DownloadInput,
  DownloadOutput,
  ProcessClipInput,
  RecordContext,
  RecordEmitted,
  RecordEvent,
  RecordInput,
  RecordOutcome,
  RecordOutput,
  StartRecordInput,
  StartRecordOutput,
} from './types.js';

type Timed = { at: number };
type RecordChildEvent =
  | DoneActorEvent<StartRecordOutput, 'startRecord'>
  | ErrorActorEvent<unknown, 'startRecord'>
  | DoneActorEvent<DownloadOutput, 'downloadRecording'>
  | ErrorActorEvent<unknown, 'downloadRecording'>
  | DoneActorEvent<Timed & { summary?: unknown }, 'processClip'>
  | ErrorActorEvent<unknown, 'processClip'>
  | DoneActorEvent<Timed, 'deleteClip'>
  | ErrorActorEvent<unknown, 'deleteClip'>
  | ErrorActorEvent<unknown, 'clipGuard'>;
type AnyRecordEvent = RecordEvent | RecordChildEvent;

const notProvided = (name: string) => () => {
  throw new Error(
    `recordMachine actor '${name}' is not provided: use createCallRuntime or machine.provide()`,
  );
};

/** The POST's answer, when the event is it. */
const answerOf = (e: AnyRecordEvent) => (e.type === 'xstate.done.actor.startRecord' ? e.output : null);
/** The error of a failed child, when the event is one. */
const errorOf = (e: AnyRecordEvent) => ('error' in e ? asErrorJson(e.error) : asErrorJson(undefined));
/** The time an event carries (its own `at`, or its output's or error's). */
function eventTime(now: number, e: AnyRecordEvent): number {
  if ('at' in e) return Math.max(now, e.at);
  if ('output' in e) return timeOf(now, e.output);
  return timeOf(now, e.error);
}

export function recordContext(input: RecordInput): RecordContext {
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
    reportToParent: input.reportToParent ?? false,
    final: null,
  };
}

export const recordSetup = setup({
  types: {
    context: phantom<RecordContext>(),
    input: phantom<RecordInput>(),
    events: phantom<AnyRecordEvent>(),
    output: phantom<RecordOutput>(),
    emitted: phantom<RecordEmitted>(),
  },
  actors: {
    startRecord: fromPromise<StartRecordOutput, StartRecordInput>(notProvided('startRecord')),
    downloadRecording: fromPromise<DownloadOutput, DownloadInput>(notProvided('downloadRecording')),
    processClip: fromPromise<Timed & { summary?: unknown }, ProcessClipInput>(notProvided('processClip')),
    deleteClip: fromPromise<Timed, { storeKey: string }>(notProvided('deleteClip')),
    clipGuard: fromCallback<{ type: 'noop' }, { storeKey: string }>(notProvided('clipGuard')),
  },
  guards: {
    responseSucceeded: ({ context, event }) => {
      const out = answerOf(event);
      return !!out && isSuccess(completionAfterResponse(context, out));
    },
    responseFailed: ({ context, event }) => {
      const out = answerOf(event);
      return !!out && completionAfterResponse(context, out) !== null;
    },
    // Rejected by our own validation, or by Graph with 400 (a service with tighter limits than ours).
    invalidOptions: ({ event }) => {
      const err = errorOf(event);
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
    outcomeUnknown: ({ event }) => errorOf(event).kind === 'timeout',
    earlyIsOurs: ({ context }) => context.early?.clientContext === context.clientContext,
    earlySucceeded: ({ context }) => isSuccess(context.early),
  },
  delays: {
    // The earlier of the completion deadline and, once the call ended, the grace after it.
    COMPLETION_TIMEOUT: ({ context }) => Math.max(0, completionWaitEnd(context) - context.at),
    PROCESSING_TIMEOUT: ({ context }) =>
      Math.max(0, (context.processingDeadlineAt ?? context.at) - context.at),
    DELETE_RETRY: ({ context }) =>
      Math.min(60_000, context.policy.deleteRetryMs * 2 ** Math.max(0, context.deleteAttempts - 1)),
  },
  actions: {
    takeTime: assign({ at: ({ context, event }) => eventTime(context.at, event) }),
    // Keeps the first terminal completion, preferring one that names our clientContext.
    bufferEarly: assign({
      early: ({ context, event }) => {
        if (event.type !== 'OPERATION_COMPLETED' || !isTerminal(event.status)) return context.early;
        const ours = (c: Completion | null) => !!c && c.clientContext === context.clientContext;
        return !context.early || (!ours(context.early) && ours(event)) ? sanitize(event) : context.early;
      },
    }),
    noteCallEnded: assign(({ context, event }) => ({
      callEndedAt: context.callEndedAt ?? eventTime(context.at, event),
      at: eventTime(context.at, event),
    })),
    acceptResponse: assign(({ context, event }) => {
      const out = answerOf(event);
      if (!out) return {};
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
    // A call routes completions by operation id: tell it the id once known.
    reportOperation: enqueueActions(({ context, enqueue }) => {
      if (context.reportToParent && context.operationId)
        enqueue.sendParent({
          type: 'OPERATION_STARTED',
          childId: context.recordId,
          operationId: context.operationId,
        });
    }),
    failWith: assign((_, params: { outcome: RecordOutcome }) => ({ outcome: params.outcome })),
    failWithError: assign(({ context, event }, params: { outcome: RecordOutcome }) => ({
      outcome: params.outcome,
      error: errorOf(event),
      at: eventTime(context.at, event),
    })),
    // Fired at the earlier of the completion deadline and the end of the grace after the call ended.
    timeoutOutcome: assign(({ context }) => {
      const end = completionWaitEnd(context);
      // A POST that timed out and was never followed by a completion stays requestFailed.
      const outcome: RecordOutcome =
        context.outcome === 'requestFailed'
          ? 'requestFailed'
          : end < context.completionDeadlineAt
            ? 'callEnded'
            : 'completionTimeout';
      return { outcome, at: Math.max(context.at, end) };
    }),
    processingTimedOut: assign(({ context }) => ({
      outcome: 'processingTimeout' satisfies RecordOutcome,
      at: Math.max(context.at, context.processingDeadlineAt ?? context.at),
    })),
    acceptDownload: assign(({ context, event }) => {
      if (event.type !== 'xstate.done.actor.downloadRecording') return {};
      const at = Math.max(context.at, event.output.at);
      return { bytes: event.output.bytes, at, processingDeadlineAt: at + context.policy.processingTimeoutMs };
    }),
    acceptProcessed: assign(({ context, event }) => {
      if (event.type !== 'xstate.done.actor.processClip') return {};
      return {
        outcome: 'processed' satisfies RecordOutcome,
        summary: event.output.summary ?? null,
        at: Math.max(context.at, event.output.at),
      };
    }),
    countDeleteFailure: assign(({ context, event }) => ({
      deleteAttempts: context.deleteAttempts + 1,
      at: eventTime(context.at, event),
    })),
    finish: assign((_, params: { final: 'deleted' | 'failed' }) => ({ final: params.final })),
    emitStarted: emit(({ context }) => ({
      type: 'record.started',
      recordId: context.recordId,
      operationId: context.operationId ?? '',
    })),
    emitCompleted: emit(({ context }) => ({
      type: 'record.completed',
      recordId: context.recordId,
      completionReason: context.completionReason,
    })),
    emitDownloaded: emit(({ context }) => ({
      type: 'record.downloaded',
      recordId: context.recordId,
      bytes: context.bytes ?? 0,
    })),
    emitProcessed: emit(({ context }) => ({ type: 'record.processed', recordId: context.recordId })),
    emitDeleted: emit(({ context }) => ({ type: 'record.deleted', recordId: context.recordId })),
    emitFailed: emit(({ context }) => ({
      type: 'record.failed',
      recordId: context.recordId,
      outcome: context.outcome ?? 'operationFailed',
    })),
    emitDeleteFailed: emit(({ context, event }) => ({
      type: 'record.deleteFailed',
      recordId: context.recordId,
      attempt: context.deleteAttempts,
      error: errorOf(event),
    })),
    emitGuardFailed: emit(({ context, event }) => ({
      type: 'record.guardFailed',
      recordId: context.recordId,
      error: errorOf(event),
    })),
  },
});

export { and, recordOutput };
