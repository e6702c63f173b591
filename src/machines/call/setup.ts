/**
 * The call machine's named parts: actors (provided by the runtime), guards,
 * delays and actions. Children report through XState's own done/error events
 * (with `actorId`); notifications arrive as one NOTIFICATION event and are
 * routed to the record and prompt children here, by guard.
 */
import { fromPromise, setup } from 'xstate';
import { isRefusal } from '../graph-answers.js';
import { endsCall, type NotificationEvent } from '../notification.js';
import { promptMachine } from '../prompt/machine.js';
import type { PromptOutput } from '../prompt/types.js';
import { recordMachine } from '../record/machine.js';
import type { RecordOutput } from '../record/types.js';
import { asErrorJson, phantom, timeOf } from '../types.js';
import type {
  AnswerActorInput,
  CancelMediaInput,
  HangUpInput,
  KeepAliveInput,
  PlaceCallActorInput,
  PlaceCallOutput,
  PlayPromptActorInput,
  PlayPromptOutput,
  RedirectActorInput,
  RejectActorInput,
  SubscribeToToneActorInput,
  Timed,
} from './io.js';
import { newTone, operationOf, promptProblem, recordProblem, routeOperation } from './logic.js';
import type { CallContext, CallEmitted, CallEvent, CallInput, CallOutput, ChildEvent } from './types.js';

export type AnyCallEvent = CallEvent | ChildEvent;

const notProvided = (name: string) => () => {
  throw new Error(`callMachine actor '${name}' is not provided: use createCallRuntime or machine.provide()`);
};

export const errorOf = (e: AnyCallEvent) => asErrorJson('error' in e ? e.error : undefined);
/** The time an event carries (its own `at`, or its output's or error's), never before `now`. */
export function eventTime(now: number, e: AnyCallEvent): number {
  if ('at' in e) return Math.max(now, e.at);
  if ('output' in e) return timeOf(now, e.output);
  if ('error' in e) return timeOf(now, e.error);
  return now;
}
export const notification = (e: AnyCallEvent): NotificationEvent | null =>
  e.type === 'NOTIFICATION' ? e : null;
export const childId = (e: AnyCallEvent) => ('actorId' in e ? e.actorId : '');
type ChildOutput = RecordOutput | PromptOutput | Timed | PlaceCallOutput;
export const isPlaced = (o: ChildOutput): o is PlaceCallOutput => 'callId' in o && 'state' in o;
export const isRecordOutput = (o: ChildOutput | undefined): o is RecordOutput => !!o && 'recordId' in o;
export const isPromptOutput = (o: ChildOutput | undefined): o is PromptOutput => !!o && 'promptId' in o;

export function callOutput(ctx: CallContext): CallOutput {
  const out: CallOutput = {
    callId: ctx.callId,
    reason: ctx.end.reason ?? 'terminated',
    endedAt: ctx.end.endedAt ?? ctx.at,
  };
  if (ctx.end.resultInfo) out.resultInfo = ctx.end.resultInfo;
  // The request that ended the call, where it was one of ours that failed.
  if (ctx.lastError && (ctx.end.reason === 'keepAliveRefused' || ctx.end.reason === 'setupFailed'))
    out.error = ctx.lastError;
  return out;
}

export const callBase = setup({
  types: {
    context: phantom<CallContext>(),
    input: phantom<CallInput>(),
    events: phantom<AnyCallEvent>(),
    output: phantom<CallOutput>(),
    emitted: phantom<CallEmitted>(),
  },
  actors: {
    keepAlive: fromPromise<Timed, KeepAliveInput>(notProvided('keepAlive')),
    hangUp: fromPromise<Timed, HangUpInput>(notProvided('hangUp')),
    cancelMedia: fromPromise<Timed, CancelMediaInput>(notProvided('cancelMedia')),
    answer: fromPromise<Timed, AnswerActorInput>(notProvided('answer')),
    reject: fromPromise<Timed, RejectActorInput>(notProvided('reject')),
    redirect: fromPromise<Timed, RedirectActorInput>(notProvided('redirect')),
    placeCall: fromPromise<PlaceCallOutput, PlaceCallActorInput>(notProvided('placeCall')),
    subscribeToTone: fromPromise<Timed, SubscribeToToneActorInput>(notProvided('subscribeToTone')),
    playPrompt: fromPromise<PlayPromptOutput, PlayPromptActorInput>(notProvided('playPrompt')),
    recordMachine,
    promptMachine,
  },
  guards: {
    startsIncoming: ({ context }) => context.start === 'incoming',
    startsOutgoing: ({ context }) => context.start === 'outgoing',
    isNotFound: ({ event }) => errorOf(event).status === 404,
    isRefused: ({ event }) => isRefusal(errorOf(event)),
    retryScheduled: ({ context }) => context.retryAt !== null,
    keepAliveFailing: ({ context }) => context.failures > 0,
    wasEstablished: ({ context }) => context.setup.establishedAt !== null,
    establishedEarly: ({ context }) => context.setup.establishedEarly,
    noLiveChildren: ({ context }) =>
      Object.values(context.records).every((r) => r.done) &&
      Object.values(context.prompts).every((p) => p.done),
    isMediaChild: ({ context, event }) =>
      Object.hasOwn(context.records, childId(event)) || Object.hasOwn(context.prompts, childId(event)),
    isToneRequest: ({ event }) => childId(event).startsWith('tones-'),
    canSpawnRecord: ({ context, event }) => event.type === 'RECORD' && recordProblem(context, event) === null,
    canSpawnPrompt: ({ context, event }) =>
      event.type === 'PLAY_PROMPT' && promptProblem(context, event) === null,
    // Notifications, read by what they say.
    endsCall: ({ event }) => {
      const n = notification(event);
      return !!n && endsCall(n);
    },
    saysEstablished: ({ event }) => {
      const n = notification(event);
      return !!n && n.resource.kind === 'call' && n.resource.state === 'established' && !endsCall(n);
    },
    isNewTone: ({ context, event }) => {
      const n = notification(event);
      return !!n && newTone(context, n) !== null;
    },
    forRecord: ({ context, event }) => {
      const n = notification(event);
      const op = n && operationOf(n);
      return !!op && routeOperation(context, op)?.kind === 'record';
    },
    forPrompt: ({ context, event }) => {
      const n = notification(event);
      const op = n && operationOf(n);
      return !!op && routeOperation(context, op)?.kind === 'prompt';
    },
    isOperation: ({ event }) => {
      const n = notification(event);
      return !!n && operationOf(n) !== null;
    },
  },
  delays: {
    DECISION_DEADLINE: ({ context }) => Math.max(0, (context.setup.decideBy ?? context.at) - context.at),
    ESTABLISH_DEADLINE: ({ context }) => Math.max(0, (context.setup.establishBy ?? context.at) - context.at),
    KEEPALIVE_INTERVAL: ({ context }) => Math.max(0, context.nextKeepAliveAt - context.at),
    KEEPALIVE_DEADLINE: ({ context }) => Math.max(0, context.deadlineAt - context.at),
    // No retry left: wait as long as the deadline (whose transition wins); the guard blocks a late retry.
    RETRY_DELAY: ({ context }) => Math.max(0, (context.retryAt ?? context.deadlineAt) - context.at),
    DRAIN_TIMEOUT: ({ context }) =>
      Math.max(0, (context.end.endedAt ?? context.at) + context.policy.drainTimeoutMs - context.at),
  },
});
