/**
 * The call before it is up, named for Graph's rules: an offered call is
 * answered, rejected or redirected within 15 s (5 s for policy-based
 * recording); an answered one waits for `established` (either order with
 * `establishing`); a placed one waits for the 201, then rings (at most 115 s).
 */
import { callSetup } from './emits.js';

export const start = callSetup.createStateConfig({
  description: 'Where the call comes from (input `start`).',
  always: [
    { guard: 'startsIncoming', target: 'offered', actions: 'emitOffered', description: 'An incoming call.' },
    { guard: 'startsOutgoing', target: 'placing', description: 'A call the bot places.' },
    { target: 'established', description: 'An established call (runtime.track).' },
  ],
});

export const offered = callSetup.createStateConfig({
  tags: ['setup'],
  description:
    'Graph offers a call: answer, reject or redirect within 15 s (5 s for policy-based recording).',
  after: {
    DECISION_DEADLINE: {
      target: 'rejecting',
      actions: ['reachDecisionTime', { type: 'pendAs', params: { reason: 'decisionTimeout' } }],
      description: 'Nobody decided in time (default 10 s): reject before Graph gives up.',
    },
  },
  on: {
    ANSWER: { target: 'answering', actions: 'takeTime', description: 'The bot answers.' },
    REJECT: {
      target: 'rejecting',
      actions: ['takeTime', { type: 'pendAs', params: { reason: 'rejected' } }],
      description: 'The bot rejects (none, busy, forbidden).',
    },
    HANG_UP: {
      target: 'rejecting',
      actions: ['takeTime', { type: 'pendAs', params: { reason: 'rejected' } }],
      description: 'An unanswered call is hung up by rejecting it.',
    },
    REDIRECT: { target: 'redirecting', actions: 'takeTime', description: 'The bot forwards the call.' },
    NOTIFICATION: {
      guard: 'endsCall',
      target: 'draining',
      actions: [{ type: 'endByNotification', params: {} }, 'emitEnded'],
      description: 'The caller gave up (or Graph withdrew the offer).',
    },
    RESUME: {
      target: 'offered',
      reenter: true,
      actions: 'takeTime',
      description: 'After a restore: re-arm the decision deadline.',
    },
  },
});

export const answering = callSetup.createStateConfig({
  tags: ['setup'],
  description: 'POST answer (202, service-hosted media); `established` may come before the 202.',
  invoke: {
    id: 'answer',
    src: 'answer',
    input: ({ context, event }) => ({
      callId: context.callId,
      ...(event.type === 'ANSWER' && event.callbackUri ? { callbackUri: event.callbackUri } : {}),
      ...(event.type === 'ANSWER' && event.preFetchMedia ? { preFetchMedia: event.preFetchMedia } : {}),
    }),
    onDone: [
      {
        guard: 'establishedEarly',
        target: 'established',
        actions: ['enterEstablished', 'emitAnswered', 'emitEstablished'],
        description: '202, and `established` already came.',
      },
      {
        target: 'establishing',
        actions: ['armEstablishDeadline', 'emitAnswered'],
        description: '202: wait for `established`.',
      },
    ],
    onError: [
      {
        guard: 'isNotFound',
        target: 'draining',
        actions: ['noteError', { type: 'endAs', params: { reason: 'notFound' } }, 'emitEnded'],
        description: '404: the offer is gone (answered too late).',
      },
      {
        target: 'draining',
        actions: ['noteError', { type: 'endAs', params: { reason: 'setupFailed' } }, 'emitEnded'],
        description: 'The answer failed: the call cannot go on.',
      },
    ],
  },
  on: {
    NOTIFICATION: [
      {
        guard: 'saysEstablished',
        actions: 'noteEstablishedEarly',
        description: '`established` before the 202 (either order is allowed).',
      },
      {
        guard: 'endsCall',
        target: 'draining',
        actions: [{ type: 'endByNotification', params: {} }, 'emitEnded'],
        description: 'Graph ended the call (408/1106: the answer came too late).',
      },
    ],
    RESUME: {
      actions: 'takeTime',
      description: 'After a restore: the answer is sent again (idempotent).',
    },
  },
});

export const establishing = callSetup.createStateConfig({
  tags: ['setup'],
  description: 'Answered: waits for `established` (an `establishing` may come before or after it).',
  after: {
    ESTABLISH_DEADLINE: {
      target: 'terminating',
      actions: ['reachEstablishTime', { type: 'pendAs', params: { reason: 'notAnswered' } }],
      description: 'Not established in time: hang up.',
    },
  },
  on: {
    NOTIFICATION: [
      {
        guard: 'saysEstablished',
        target: 'established',
        actions: ['enterEstablished', 'emitEstablished'],
        description: 'The call is up: the keepAlive rule starts.',
      },
      {
        guard: 'endsCall',
        target: 'draining',
        actions: [{ type: 'endByNotification', params: {} }, 'emitEnded'],
        description: 'Graph ended the call before it was up.',
      },
    ],
    HANG_UP: { target: 'terminating', actions: 'takeTime', description: 'The bot hangs up.' },
    RESUME: {
      target: 'establishing',
      reenter: true,
      actions: 'takeTime',
      description: 'After a restore: re-arm the deadline.',
    },
  },
});

export const placing = callSetup.createStateConfig({
  tags: ['setup'],
  description: 'POST /communications/calls (201 + the call id, state establishing).',
  invoke: {
    id: 'placeCall',
    src: 'placeCall',
    input: ({ context }) => context.setup.place ?? { targets: [] },
    onDone: {
      target: 'ringing',
      actions: ['takePlacedCall', 'armEstablishDeadline', 'emitPlaced'],
      description: '201: Graph named the call; it rings.',
    },
    onError: {
      target: 'draining',
      actions: ['noteError', { type: 'endAs', params: { reason: 'setupFailed' } }, 'emitEnded'],
      description: 'Refused (400, 403, ...): no call was placed.',
    },
  },
});

export const ringing = callSetup.createStateConfig({
  tags: ['setup'],
  description: 'Placed: establishing/ringing until the callee answers (Graph rings at most 115 s).',
  after: {
    ESTABLISH_DEADLINE: {
      target: 'terminating',
      actions: ['reachEstablishTime', { type: 'pendAs', params: { reason: 'notAnswered' } }],
      description: 'Nobody answered in time: hang up.',
    },
  },
  on: {
    NOTIFICATION: [
      {
        guard: 'saysEstablished',
        target: 'established',
        actions: ['enterEstablished', 'emitEstablished'],
        description: 'The callee answered.',
      },
      {
        guard: 'endsCall',
        target: 'draining',
        actions: [{ type: 'endByNotification', params: { placing: true } }, 'emitEnded'],
        description: 'Graph ended it: 480 unreachable, 408 not answered, else terminated.',
      },
    ],
    HANG_UP: { target: 'terminating', actions: 'takeTime', description: 'The bot gives up.' },
    RESUME: {
      target: 'ringing',
      reenter: true,
      actions: 'takeTime',
      description: 'After a restore: re-arm the deadline.',
    },
  },
});

export const rejecting = callSetup.createStateConfig({
  tags: ['setup'],
  description: 'POST reject (202): only for a call not yet answered; Graph then deletes it.',
  invoke: {
    id: 'reject',
    src: 'reject',
    input: ({ context, event }) => ({
      callId: context.callId,
      reason: event.type === 'REJECT' ? (event.reason ?? 'none') : 'none',
    }),
    onDone: {
      target: 'draining',
      actions: [{ type: 'endAs', params: { reason: 'rejected' } }, 'emitEnded'],
      description: '202: rejected (or decisionTimeout when the deadline did it).',
    },
    onError: {
      target: 'draining',
      actions: ['noteError', { type: 'endAs', params: { reason: 'rejected' } }, 'emitEnded'],
      description: 'The reject failed: Graph drops the unanswered call after 15 s anyway.',
    },
  },
  on: {
    NOTIFICATION: {
      guard: 'endsCall',
      target: 'draining',
      actions: [{ type: 'endByNotification', params: {} }, 'emitEnded'],
      description: "Graph's deleted came before the 202: rejected all the same.",
    },
    RESUME: { actions: 'takeTime', description: 'After a restore: the reject is sent again.' },
  },
});

export const redirecting = callSetup.createStateConfig({
  tags: ['setup'],
  description: 'POST redirect (202) to 1..25 targets; the bot’s own leg then ends.',
  invoke: {
    id: 'redirect',
    src: 'redirect',
    input: ({ context, event }) => ({
      callId: context.callId,
      targets: event.type === 'REDIRECT' ? event.targets : [],
      ...(event.type === 'REDIRECT' && event.timeoutInSeconds !== undefined
        ? { timeoutInSeconds: event.timeoutInSeconds }
        : {}),
    }),
    onDone: {
      target: 'draining',
      actions: [{ type: 'endAs', params: { reason: 'redirected' } }, 'emitEnded'],
      description: '202: redirected; Graph’s deleted (answeredBy) follows.',
    },
    onError: {
      target: 'offered',
      actions: ['noteError', 'emitRedirectFailed'],
      description: 'The redirect failed: the offer stands until the decision deadline.',
    },
  },
  on: {
    NOTIFICATION: {
      guard: 'endsCall',
      target: 'draining',
      actions: [{ type: 'endByNotification', params: { reason: 'redirected' } }, 'emitEnded'],
      description: "Graph's deleted came before the 202: the redirect took.",
    },
    RESUME: { actions: 'takeTime', description: 'After a restore: the redirect is sent again.' },
  },
});
