/**
 * How a call ends: our DELETE (terminating), then draining (records finish
 * downloading, processing and deleting; prompts stop) to ended.
 */
import { callSetup } from './emits.js';

export const terminating = callSetup.createStateConfig({
  tags: ['live'],
  description:
    'DELETE the call (204); a 404 means it was already gone. Another error resumes keepAlives (or ends a call not yet up).',
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
      {
        guard: 'keepAliveFailing',
        target: 'established.retryWait',
        actions: ['noteError', 'emitHangUpFailed'],
        description: 'The DELETE failed while keepAlives were failing: back to the retry schedule.',
      },
      {
        guard: 'wasEstablished',
        target: 'established.active',
        actions: ['noteError', 'emitHangUpFailed'],
        description: 'The DELETE failed: call.hangUpFailed, keepAlives go on.',
      },
      {
        target: 'draining',
        actions: [
          'noteError',
          'emitHangUpFailed',
          { type: 'endAs', params: { reason: 'setupFailed' } },
          'emitEnded',
        ],
        description: 'The DELETE of a call never established failed: it ends here (Graph drops it).',
      },
    ],
  },
  on: {
    NOTIFICATION: {
      guard: 'endsCall',
      target: 'draining',
      actions: [{ type: 'endByNotification', params: { hangingUp: true } }, 'emitEnded'],
      description:
        'Graph notified the end of the call: hungUp when it says the bot ended it (200/7000, 200/10550).',
    },
    RECORD: {
      actions: { type: 'emitRecordRejected', params: { ending: true } },
      description: 'Refused: the call is ending.',
    },
    PLAY_PROMPT: {
      actions: { type: 'emitPromptRejected', params: { established: false } },
      description: 'Refused: the call is ending.',
    },
    RESUME: {
      actions: ['takeTime', 'resumeChildren'],
      description: 'After a restore: the DELETE was re-sent on restore; pass RESUME to the children.',
    },
  },
});

export const draining = callSetup.createStateConfig({
  description:
    'The call is over; its recordings finish (download, process, delete) before it ends, within the drain timeout; prompts stop.',
  entry: 'tellChildrenCallEnded',
  always: {
    guard: 'noLiveChildren',
    target: 'ended',
    description: 'Every record and prompt has finished.',
  },
  after: {
    DRAIN_TIMEOUT: {
      target: 'ended',
      actions: 'reachDrainEnd',
      description: 'Records still running are stopped; each deletes what it stored.',
    },
  },
  on: {
    NOTIFICATION: {
      guard: 'endsCall',
      actions: 'noteTermination',
      description: "Graph's end notification came after the end: its resultInfo goes in the output.",
    },
    RECORD: {
      actions: { type: 'emitRecordRejected', params: { ending: true } },
      description: 'Refused: the call is ending.',
    },
    PLAY_PROMPT: {
      actions: { type: 'emitPromptRejected', params: { established: false } },
      description: 'Refused: the call is ending.',
    },
    RESUME: {
      target: 'draining',
      reenter: true,
      actions: ['takeTime', 'resumeChildren'],
      description: 'After a restore: re-arm the drain timeout; tell the children again.',
    },
  },
});

export const ended = callSetup.createStateConfig({
  type: 'final',
  description: 'Final. Any record still running is stopped here and its guard deletes its clip.',
});
