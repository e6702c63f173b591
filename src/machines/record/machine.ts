/**
 * recordMachine: one recording from request to purge.
 * requesting -> recording -> completed -> holdingClip(downloading -> downloaded
 * -> processing -> deleting) -> deleted. Anything that stored bytes passes
 * `deleting`; failures with nothing stored end in `failed`.
 * Pure: time arrives as `at` in events and actor outputs; delays are computed
 * from absolute deadlines in context, so they are exact on simulated time and
 * re-armed by RESUME after a restore.
 */
import { and, recordContext, recordOutput, recordSetup } from './setup.js';

export const recordMachine = recordSetup.createMachine({
  id: 'record',
  description: 'One recording: request, wait for the completion notification, download, process, delete.',
  // Read from the final context: the final state's entry notes which final it is.
  output: ({ context }) => recordOutput(context),
  context: ({ input }) => recordContext(input),
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
            actions: ['acceptResponse', 'reportOperation', 'emitStarted'],
            description:
              'Already completed with a recording (in the answer, or a completion that overtook it).',
          },
          {
            guard: 'responseFailed',
            target: 'failed',
            actions: [
              'acceptResponse',
              'reportOperation',
              'emitStarted',
              { type: 'failWith', params: { outcome: 'operationFailed' } },
            ],
            description: 'Already failed (in the answer, or a completion that overtook it).',
          },
          {
            target: 'recording',
            actions: ['acceptResponse', 'reportOperation', 'emitStarted'],
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
            actions: ['acceptEarly', 'reportOperation'],
            description: 'Timed out, but its successful completion already came: take it.',
          },
          {
            guard: and(['outcomeUnknown', 'earlyIsOurs']),
            target: 'failed',
            actions: [
              'acceptEarly',
              'reportOperation',
              { type: 'failWith', params: { outcome: 'operationFailed' } },
            ],
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
                  actions: 'takeTime',
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
      entry: [{ type: 'finish', params: { final: 'deleted' } }, 'emitDeleted'],
    },
    failed: {
      type: 'final',
      description:
        'Ended with nothing stored: the operation failed, the request failed, or no completion came.',
      entry: [{ type: 'finish', params: { final: 'failed' } }, 'emitFailed'],
    },
  },
});

export type RecordMachine = typeof recordMachine;
