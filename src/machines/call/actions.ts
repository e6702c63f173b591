/**
 * The call machine's actions on its own state: time, the keepAlive rule,
 * set-up deadlines and how the call ends. Pure assigns of plain JSON.
 */
import { assign } from 'xstate';
import { readResultInfo } from '../graph-answers.js';
import { establish, reasonFromEnd, retryDelay } from './logic.js';
import { callBase, errorOf, eventTime, isPlaced, notification } from './setup.js';
import type { CallEndReason } from './types.js';

export const callStateActions = callBase.extend({
  actions: {
    takeTime: assign({ at: ({ context, event }) => eventTime(context.at, event) }),
    // A timer that fires carries no `at`: it fired at the instant it was armed for.
    reachDecisionTime: assign({
      at: ({ context }) => Math.max(context.at, context.setup.decideBy ?? context.at),
    }),
    reachEstablishTime: assign({
      at: ({ context }) => Math.max(context.at, context.setup.establishBy ?? context.at),
    }),
    reachKeepAliveTime: assign({ at: ({ context }) => Math.max(context.at, context.nextKeepAliveAt) }),
    reachRetryTime: assign({ at: ({ context }) => Math.max(context.at, context.retryAt ?? context.at) }),
    reachDrainEnd: assign({
      at: ({ context }) =>
        Math.max(context.at, (context.end.endedAt ?? context.at) + context.policy.drainTimeoutMs),
    }),
    // The 201 named the call: from now on it is Graph's id.
    takePlacedCall: assign(({ context, event }) =>
      event.type === 'xstate.done.actor.placeCall' && isPlaced(event.output)
        ? { callId: event.output.callId, at: Math.max(context.at, event.output.at) }
        : {},
    ),
    enterEstablished: assign(({ context, event }) => establish(context, eventTime(context.at, event))),
    armEstablishDeadline: assign(({ context, event }) => {
      const at = eventTime(context.at, event);
      const limit =
        context.start === 'outgoing' ? context.policy.ringTimeoutMs : context.policy.establishTimeoutMs;
      return { at, setup: { ...context.setup, establishBy: at + limit } };
    }),
    noteEstablishedEarly: assign(({ context }) => ({ setup: { ...context.setup, establishedEarly: true } })),
    pendAs: assign(({ context }, params: { reason: CallEndReason }) => ({
      end: { ...context.end, pendingReason: params.reason },
    })),
    recordSuccess: assign(({ context, event }) => {
      const at = eventTime(context.at, event);
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
      const err = errorOf(event);
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
    // The error stays in lastError: the output and call.ended report it where the reason needs it.
    noteError: assign(({ context, event }) => {
      const err = errorOf(event);
      return { lastError: err, at: Math.max(context.at, err.at ?? context.at) };
    }),
    endAs: assign(({ context, event }, params: { reason: CallEndReason }) => {
      const at = eventTime(context.at, event);
      const end = context.end;
      return {
        end: { ...end, reason: end.reason ?? end.pendingReason ?? params.reason, endedAt: end.endedAt ?? at },
        at,
      };
    }),
    // Graph's end notification: its resultInfo names the reason (see reasonFromEnd) and goes in the output.
    endByNotification: assign(
      ({ context, event }, params: { hangingUp?: boolean; placing?: boolean; reason?: CallEndReason }) => {
        const n = notification(event);
        const info =
          (n?.resource.kind === 'call' ? readResultInfo(n.resource.resultInfo) : null) ??
          context.end.resultInfo;
        const at = eventTime(context.at, event);
        const end = context.end;
        const reason =
          end.reason ?? params.reason ?? end.pendingReason ?? reasonFromEnd(context, info, params);
        return { end: { ...end, reason, endedAt: end.endedAt ?? at, resultInfo: info }, at };
      },
    ),
    // Graph's end notification after we had ended the call ourselves: its resultInfo still counts.
    noteTermination: assign(({ context, event }) => {
      const n = notification(event);
      const info =
        context.end.resultInfo ??
        (n?.resource.kind === 'call' ? readResultInfo(n.resource.resultInfo) : null);
      return { end: { ...context.end, resultInfo: info } };
    }),
    endExpired: assign(({ context }) => ({
      end: {
        ...context.end,
        reason: context.end.reason ?? 'expired',
        // The deadline itself is the moment the call was lost.
        endedAt: context.end.endedAt ?? Math.max(context.at, context.deadlineAt),
      },
      at: Math.max(context.at, context.deadlineAt),
    })),
  },
});
