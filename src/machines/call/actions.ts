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
    reachDecisionTime: assign({ at: ({ context }) => Math.max(context.at, context.decideBy ?? context.at) }),
    reachEstablishTime: assign({
      at: ({ context }) => Math.max(context.at, context.establishBy ?? context.at),
    }),
    reachKeepAliveTime: assign({ at: ({ context }) => Math.max(context.at, context.nextKeepAliveAt) }),
    reachRetryTime: assign({ at: ({ context }) => Math.max(context.at, context.retryAt ?? context.at) }),
    reachDrainEnd: assign({
      at: ({ context }) =>
        Math.max(context.at, (context.endedAt ?? context.at) + context.policy.drainTimeoutMs),
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
      return { at, establishBy: at + limit };
    }),
    noteEstablishedEarly: assign({ establishedEarly: true }),
    pendAs: assign((_, params: { reason: CallEndReason }) => ({ pendingReason: params.reason })),
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
      return {
        endReason: context.endReason ?? context.pendingReason ?? params.reason,
        endedAt: context.endedAt ?? at,
        at,
      };
    }),
    // Graph's end notification: its resultInfo names the reason (see reasonFromEnd) and goes in the output.
    endByNotification: assign(
      ({ context, event }, params: { hangingUp?: boolean; placing?: boolean; reason?: CallEndReason }) => {
        const n = notification(event);
        const info =
          (n?.resource.kind === 'call' ? readResultInfo(n.resource.resultInfo) : null) ??
          context.terminationInfo;
        const at = eventTime(context.at, event);
        const reason =
          context.endReason ?? params.reason ?? context.pendingReason ?? reasonFromEnd(context, info, params);
        return { endReason: reason, endedAt: context.endedAt ?? at, at, terminationInfo: info };
      },
    ),
    // Graph's end notification after we had ended the call ourselves: its resultInfo still counts.
    noteTermination: assign({
      terminationInfo: ({ context, event }) => {
        const n = notification(event);
        return (
          context.terminationInfo ??
          (n?.resource.kind === 'call' ? readResultInfo(n.resource.resultInfo) : null)
        );
      },
    }),
    endExpired: assign(({ context }) => ({
      endReason: context.endReason ?? 'expired',
      // The deadline itself is the moment the call was lost.
      endedAt: context.endedAt ?? Math.max(context.at, context.deadlineAt),
      at: Math.max(context.at, context.deadlineAt),
    })),
  },
});
