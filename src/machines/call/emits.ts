/**
 * What the call machine emits (actor.on): the call's progress, failures
 * that do not end it, tones in order, and each child's end.
 */
import { emit, enqueueActions } from 'xstate';
import { callChildActions } from './children.js';
import { operationOf, promptProblem, recordProblem } from './logic.js';
import { childId, errorOf, isPromptOutput, isRecordOutput, notification } from './setup.js';

export const callSetup = callChildActions.extend({
  actions: {
    emitTone: emit(({ context, event }) => {
      const n = notification(event);
      const tone = n && n.resource.kind === 'call' ? n.resource.toneInfo : null;
      return {
        type: 'call.tone',
        sequenceId: tone?.sequenceId ?? context.seq.lastTone,
        tone: tone?.tone ?? '',
        at: context.at,
      };
    }),
    emitOffered: emit(({ context }) => ({
      type: 'call.offered',
      callId: context.callId,
      offer: context.setup.offer ?? {},
      decideBy: context.setup.decideBy ?? context.at,
    })),
    emitAnswered: emit(({ context }) => ({ type: 'call.answered', at: context.at })),
    emitEstablished: emit(({ context }) => ({
      type: 'call.established',
      at: context.setup.establishedAt ?? context.at,
    })),
    emitPlaced: emit(({ context }) => ({ type: 'call.placed', callId: context.callId, at: context.at })),
    emitRedirectFailed: emit(({ context }) => ({
      type: 'call.redirectFailed',
      status: context.lastError?.status,
      code: context.lastError?.code,
    })),
    emitSent: emit(({ context }) => ({
      type: 'keepAlive.sent',
      at: context.lastSuccessAt,
      count: context.keepAlivesSent,
    })),
    emitFailed: emit(({ context }) => ({
      type: 'keepAlive.failed',
      status: context.lastError?.status,
      code: context.lastError?.code,
      retryInMs: context.retryAt === null ? null : context.retryDelayMs,
    })),
    emitEnded: emit(({ context }) => ({
      type: 'call.ended',
      reason: context.end.reason ?? 'terminated',
      ...(context.end.resultInfo ? { resultInfo: context.end.resultInfo } : {}),
    })),
    emitRefused: emit(({ context }) => {
      const e = context.lastError ?? {};
      return {
        type: 'keepAlive.refused',
        status: e.status,
        code: e.code,
        requestId: e.requestId,
        clientRequestId: e.clientRequestId,
        message: e.message,
      };
    }),
    emitHangUpFailed: emit(({ context }) => ({
      type: 'call.hangUpFailed',
      status: context.lastError?.status,
      code: context.lastError?.code,
    })),
    emitRecordRejected: emit(({ context, event }, params: { ending: boolean }) => {
      const recordId = event.type === 'RECORD' ? (event.recordId ?? '') : '';
      const problem = !params.ending && event.type === 'RECORD' ? recordProblem(context, event) : null;
      return {
        type: 'call.recordRejected',
        recordId,
        reason: problem?.reason ?? 'callEnding',
        ...(problem ? { message: problem.message } : {}),
      };
    }),
    emitPromptRejected: emit(({ context, event }, params: { established: boolean }) => ({
      type: 'call.promptRejected',
      promptId: event.type === 'PLAY_PROMPT' ? (event.promptId ?? '') : '',
      reason:
        params.established && event.type === 'PLAY_PROMPT'
          ? (promptProblem(context, event) ?? 'notEstablished')
          : 'notEstablished',
    })),
    emitCancelFailed: emit(({ event }) => {
      const err = errorOf(event);
      return { type: 'call.cancelMediaFailed', status: err.status, code: err.code };
    }),
    emitToneFailed: emit(({ event }) => {
      const err = errorOf(event);
      return { type: 'call.toneSubscribeFailed', status: err.status, code: err.code };
    }),
    emitUnmatched: emit(({ event }) => {
      const n = notification(event);
      const op = n && operationOf(n);
      return { type: 'call.operationUnmatched', operationId: op?.operationId ?? '' };
    }),
    emitChildDone: enqueueActions(({ context, event, enqueue }) => {
      const id = childId(event);
      const error = event.type.startsWith('xstate.error.actor.') ? errorOf(event) : undefined;
      const output = 'output' in event ? event.output : undefined;
      if (Object.hasOwn(context.records, id))
        enqueue.emit({
          type: 'call.recordDone',
          recordId: id,
          output: isRecordOutput(output) ? output : undefined,
          ...(error ? { error } : {}),
        });
      else
        enqueue.emit({
          type: 'call.promptDone',
          promptId: id,
          output: isPromptOutput(output) ? output : undefined,
          ...(error ? { error } : {}),
        });
    }),
  },
});
