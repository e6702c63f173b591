/**
 * The call is up: the 45-minute keepAlive rule (active -> keepAliveDue ->
 * active ...; transient failures wait in retryWait), and what the bot may do
 * on an established call (records, prompts, cancelMediaProcessing, tones).
 */
import { callSetup } from './emits.js';

export const established = callSetup.createStateConfig({
  tags: ['live'],
  description: 'The call is up: keepAlive inside the 45-minute rule; records, prompts and tones.',
  on: {
    NOTIFICATION: [
      {
        guard: 'endsCall',
        target: 'draining',
        actions: [{ type: 'endByNotification', params: {} }, 'emitEnded'],
        description: 'Graph ended the call (408/8537 is an expiry).',
      },
      {
        guard: 'isNewTone',
        actions: ['takeTone', 'emitTone'],
        description:
          'A key press newer than the last: call.tone (older or repeated sequenceIds are dropped).',
      },
    ],
    HANG_UP: {
      target: 'terminating',
      actions: 'takeTime',
      description: 'The bot hangs up (runtime.hangUp).',
    },
    RECORD: [
      {
        guard: 'canSpawnRecord',
        actions: 'spawnRecord',
        description: 'Start a recording: a record child, queued behind running ones (no barge-in).',
      },
      {
        actions: { type: 'emitRecordRejected', params: { ending: false } },
        description: 'Refused (id or clientContext taken, invalid policy): call.recordRejected.',
      },
    ],
    PLAY_PROMPT: [
      { guard: 'canSpawnPrompt', actions: 'spawnPrompt', description: 'Play prompts: a prompt child.' },
      {
        actions: { type: 'emitPromptRejected', params: { established: true } },
        description: 'Refused (id or clientContext taken): call.promptRejected.',
      },
    ],
    CANCEL_MEDIA: {
      actions: 'spawnCancel',
      description: 'cancelMediaProcessing: Graph cancels running and queued records and prompts.',
    },
    SUBSCRIBE_TONES: {
      actions: 'spawnToneSubscription',
      description: 'subscribeToTone: key presses then come as call updates.',
    },
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
      on: {
        RESUME: {
          target: 'active',
          reenter: true,
          actions: ['takeTime', 'resumeChildren'],
          description: 'After a restore: re-arm the wait; pass RESUME to the children.',
        },
      },
    },
    keepAliveDue: {
      tags: ['live'],
      description:
        'POST keepAlive; 404 means the call is gone. Gives up at the 45-minute deadline. (RESUME re-sends it: keepAlive is idempotent.)',
      invoke: {
        id: 'keepAlive',
        src: 'keepAlive',
        input: ({ context }) => ({ callId: context.callId }),
        onDone: {
          target: 'active',
          actions: ['recordSuccess', 'emitSent'],
          description: '200: a new 45-minute window starts now.',
        },
        onError: [
          {
            guard: 'isNotFound',
            target: '#call.draining',
            actions: [{ type: 'endAs', params: { reason: 'notFound' } }, 'emitEnded'],
            description: '404: Graph no longer knows the call.',
          },
          {
            guard: 'isRefused',
            target: '#call.draining',
            actions: [
              'noteError',
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
          target: '#call.draining',
          actions: ['endExpired', 'emitEnded'],
          description: '45 minutes without a successful keepAlive: Graph has dropped the call.',
        },
      },
      on: {
        RESUME: {
          target: 'keepAliveDue',
          reenter: true,
          actions: ['takeTime', 'resumeChildren'],
          description: 'After a restore: send keepAlive again; pass RESUME to the children.',
        },
      },
    },
    retryWait: {
      tags: ['live'],
      description:
        'A keepAlive failed transiently; retry after Retry-After or backoff, at the latest 30 s before the deadline.',
      after: {
        KEEPALIVE_DEADLINE: {
          target: '#call.draining',
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
      on: {
        RESUME: {
          target: 'retryWait',
          reenter: true,
          actions: ['takeTime', 'resumeChildren'],
          description: 'After a restore: re-arm the waits; pass RESUME to the children.',
        },
      },
    },
  },
});
