/**
 * promptMachine: one playPrompt operation. requesting (POST playPrompt, 200 +
 * playPromptOperation) -> playing (waits for the completion notification) ->
 * completed | failed | canceled. A `loop` prompt never completes by itself:
 * only cancelMediaProcessing (its canceled completion) or the call's end stops
 * it. The call routes completions here by operation id or clientContext.
 */
import {
  assign,
  type DoneActorEvent,
  type ErrorActorEvent,
  emit,
  enqueueActions,
  fromPromise,
  setup,
} from 'xstate';
import type { PlayPromptActorInput, PlayPromptOutput } from '../call/io.js';
import { isCanceled, readResultInfo } from '../graph-answers.js';
import { isTerminalStatus } from '../notification.js';
import { asErrorJson, normalizeOpId, phantom, timeOf } from '../types.js';
import type {
  PromptCompletion,
  PromptContext,
  PromptEmitted,
  PromptEvent,
  PromptFinal,
  PromptInput,
  PromptOutput,
} from './types.js';

type AnyPromptEvent =
  | PromptEvent
  | DoneActorEvent<PlayPromptOutput, 'playPrompt'>
  | ErrorActorEvent<unknown, 'playPrompt'>;

const notProvided = () => {
  throw new Error("promptMachine actor 'playPrompt' is not provided: use machine.provide()");
};

function ours(ctx: PromptContext, c: PromptCompletion): boolean {
  if (ctx.operationId) return normalizeOpId(c.operationId) === normalizeOpId(ctx.operationId);
  return !!c.clientContext && c.clientContext === ctx.clientContext;
}

/** The completion in an event, when it is a terminal one for this prompt. */
function completionOf(ctx: PromptContext, e: AnyPromptEvent): PromptCompletion | null {
  return e.type === 'OPERATION_COMPLETED' && isTerminalStatus(e.status) && ours(ctx, e) ? e : null;
}

const canceled = (c: PromptCompletion) => isCanceled(readResultInfo(c.resultInfo), c.completionReason);
const succeeded = (c: PromptCompletion) => c.status.toLowerCase() === 'completed';

function promptOutput(ctx: PromptContext): PromptOutput {
  const out: PromptOutput = {
    callId: ctx.callId,
    promptId: ctx.promptId,
    clientContext: ctx.clientContext,
    final: ctx.final ?? 'failed',
    at: ctx.at,
  };
  if (ctx.operationId) out.operationId = ctx.operationId;
  const reason = ctx.reason ?? ctx.completionReason;
  if (reason) out.reason = reason;
  if (ctx.resultInfo) out.resultInfo = ctx.resultInfo;
  if (ctx.error) out.error = ctx.error;
  return out;
}

export const promptMachine = setup({
  types: {
    context: phantom<PromptContext>(),
    input: phantom<PromptInput>(),
    events: phantom<AnyPromptEvent>(),
    output: phantom<PromptOutput>(),
    emitted: phantom<PromptEmitted>(),
  },
  actors: {
    playPrompt: fromPromise<PlayPromptOutput, PlayPromptActorInput>(notProvided),
  },
  guards: {
    isCanceledCompletion: ({ context, event }) => {
      const c = completionOf(context, event);
      return !!c && canceled(c);
    },
    // A loop prompt has no completion of its own: a "completed" one for it is not believed.
    isCompletedCompletion: ({ context, event }) => {
      const c = completionOf(context, event);
      return !!c && succeeded(c) && !context.loop;
    },
    isFailedCompletion: ({ context, event }) => {
      const c = completionOf(context, event);
      return !!c && !succeeded(c);
    },
  },
  actions: {
    takeTime: assign({
      at: ({ context, event }) =>
        'at' in event
          ? Math.max(context.at, event.at)
          : 'output' in event
            ? timeOf(context.at, event.output)
            : context.at,
    }),
    acceptAnswer: assign(({ context, event }) =>
      event.type === 'xstate.done.actor.playPrompt'
        ? {
            operationId: event.output.operationId,
            status: event.output.status,
            at: Math.max(context.at, event.output.at),
          }
        : {},
    ),
    acceptCompletion: assign(({ context, event }) => {
      const c = completionOf(context, event);
      if (!c) return {};
      return {
        operationId: context.operationId ?? c.operationId,
        status: c.status,
        completionReason: c.completionReason ?? null,
        resultInfo: readResultInfo(c.resultInfo),
        at: Math.max(context.at, c.at),
      };
    }),
    noteError: assign(({ context, event }) => {
      const error = asErrorJson('error' in event ? event.error : undefined);
      return { error, at: Math.max(context.at, error.at ?? context.at) };
    }),
    callEnded: assign(({ context, event }) => ({
      reason: 'callEnded',
      at: 'at' in event ? Math.max(context.at, event.at) : context.at,
    })),
    reportOperation: enqueueActions(({ context, enqueue }) => {
      if (context.reportToParent && context.operationId)
        enqueue.sendParent({
          type: 'OPERATION_STARTED',
          childId: context.promptId,
          operationId: context.operationId,
        });
    }),
    finish: assign((_, params: { final: PromptFinal }) => ({ final: params.final })),
    emitStarted: emit(({ context }) => ({
      type: 'prompt.started',
      promptId: context.promptId,
      operationId: context.operationId ?? '',
    })),
    emitEnded: emit(({ context }) => ({
      type: 'prompt.ended',
      promptId: context.promptId,
      final: context.final ?? 'failed',
    })),
  },
}).createMachine({
  id: 'prompt',
  description: 'One playPrompt operation: request, play, then completed, failed or canceled.',
  context: ({ input }) => ({
    callId: input.callId,
    promptId: input.promptId,
    clientContext: input.clientContext,
    prompts: input.prompts,
    loop: input.loop,
    at: input.at,
    operationId: null,
    status: null,
    completionReason: null,
    resultInfo: null,
    error: null,
    reportToParent: input.reportToParent ?? false,
    final: null,
    reason: null,
  }),
  output: ({ context }) => promptOutput(context),
  on: {
    CALL_ENDED: {
      target: '.canceled',
      actions: 'callEnded',
      description: 'The call ended: nothing plays on a call that is gone.',
    },
  },
  initial: 'requesting',
  states: {
    requesting: {
      tags: ['operation'],
      description: 'POST playPrompt (200 + a running playPromptOperation).',
      invoke: {
        id: 'playPrompt',
        src: 'playPrompt',
        input: ({ context }) => ({
          callId: context.callId,
          clientContext: context.clientContext,
          prompts: context.prompts,
          loop: context.loop,
        }),
        onDone: {
          target: 'playing',
          actions: ['acceptAnswer', 'reportOperation', 'emitStarted'],
          description: '200: the prompt is queued or playing.',
        },
        onError: {
          target: 'failed',
          actions: 'noteError',
          description: 'The POST failed (400, 403, 5xx, network): nothing plays.',
        },
      },
      on: {
        OPERATION_COMPLETED: [
          {
            guard: 'isCanceledCompletion',
            target: 'canceled',
            actions: 'acceptCompletion',
            description: 'Canceled before the POST answered (matched by clientContext).',
          },
          {
            guard: 'isCompletedCompletion',
            target: 'completed',
            actions: 'acceptCompletion',
            description: 'Played before the POST answered (matched by clientContext).',
          },
          {
            guard: 'isFailedCompletion',
            target: 'failed',
            actions: 'acceptCompletion',
            description: 'Failed before the POST answered.',
          },
        ],
        RESUME: { actions: 'takeTime', description: 'After a restore (the POST is not sent again).' },
      },
    },
    playing: {
      tags: ['operation'],
      description: 'Graph plays the prompts; a completion notification ends it (never for a loop prompt).',
      on: {
        OPERATION_COMPLETED: [
          {
            guard: 'isCanceledCompletion',
            target: 'canceled',
            actions: 'acceptCompletion',
            description: 'cancelMediaProcessing: 400/8508 or mediaOperationCanceled.',
          },
          {
            guard: 'isCompletedCompletion',
            target: 'completed',
            actions: 'acceptCompletion',
            description: 'Played to the end (completionReason unknown counts as success). Never for a loop.',
          },
          {
            guard: 'isFailedCompletion',
            target: 'failed',
            actions: 'acceptCompletion',
            description: 'Graph could not play it (bad media, ...).',
          },
        ],
        RESUME: { actions: 'takeTime', description: 'After a restore: nothing to re-arm.' },
      },
    },
    completed: {
      type: 'final',
      description: 'Played to the end.',
      entry: [{ type: 'finish', params: { final: 'completed' } }, 'emitEnded'],
    },
    failed: {
      type: 'final',
      description: 'Not played: the request or the operation failed.',
      entry: [{ type: 'finish', params: { final: 'failed' } }, 'emitEnded'],
    },
    canceled: {
      type: 'final',
      description:
        'Stopped by cancelMediaProcessing or by the end of the call (the only end of a loop prompt).',
      entry: [{ type: 'finish', params: { final: 'canceled' } }, 'emitEnded'],
    },
  },
});

export type PromptMachine = typeof promptMachine;
