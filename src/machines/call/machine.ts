/**
 * callMachine: one Graph call from its first notification to its end, named
 * for Graph's rules. An offered call is answered, rejected or redirected
 * within Graph's 15 s (a local decision deadline rejects it first); an
 * answered call waits for `established` (establishing/established come in
 * either order); a placed call waits for the 201, then rings. Established, it
 * keeps the 45-minute keepAlive rule (active -> keepAliveDue -> active ...;
 * transient failures wait in retryWait). Notifications come in as NOTIFICATION
 * and are routed here to the record and prompt children; tones are emitted in
 * sequenceId order. Every way out passes `draining` (children finish) to
 * `ended`, whose output carries a reason and Graph's resultInfo.
 * Pure: time arrives as `at`; delays are computed from deadlines in context.
 */

import { callSetup } from './emits.js';
import { draining, ended, terminating } from './ending.js';
import { established } from './established.js';
import { initialContext } from './logic.js';
import { callOutput } from './setup.js';
import {
  answering,
  establishing,
  offered,
  placing,
  redirecting,
  rejecting,
  ringing,
  start,
} from './setup-states.js';

export const callMachine = callSetup.createMachine({
  id: 'call',
  description:
    'One Graph call: set up by Graph’s rules, kept alive inside the 45-minute rule, its media, a clean end.',
  context: ({ input }) => initialContext(input),
  output: ({ context }) => callOutput(context),
  // In every state: operation completions go to their child; children report their end here.
  on: {
    NOTIFICATION: [
      {
        guard: 'forRecord',
        actions: 'routeOperation',
        description:
          'A record operation ended: to the record with its operation id (else its clientContext).',
      },
      {
        guard: 'forPrompt',
        actions: 'routeOperation',
        description:
          'A playPrompt operation ended: to the prompt with its operation id (else its clientContext).',
      },
      {
        guard: 'isOperation',
        actions: 'emitUnmatched',
        description: 'An operation no running child claims (or not yet ended): call.operationUnmatched.',
      },
    ],
    OPERATION_STARTED: {
      actions: 'noteOperationId',
      description: "A child's POST answered: its operation id routes the completion.",
    },
    'xstate.done.actor.*': {
      guard: 'isMediaChild',
      actions: ['markChildDone', 'emitChildDone'],
      description: 'A record or prompt child ended: marked done, call.recordDone / call.promptDone.',
    },
    'xstate.error.actor.*': [
      {
        guard: 'isMediaChild',
        actions: ['markChildDone', 'emitChildDone'],
        description: 'A record or prompt child crashed: marked done, reported with the error.',
      },
      {
        guard: 'isToneRequest',
        actions: 'emitToneFailed',
        description: 'subscribeToTone failed: call.toneSubscribeFailed.',
      },
      {
        actions: 'emitCancelFailed',
        description: 'A cancelMediaProcessing request failed: call.cancelMediaFailed; nothing else changes.',
      },
    ],
  },
  initial: 'start',
  states: {
    start,
    offered,
    answering,
    establishing,
    placing,
    ringing,
    established,
    rejecting,
    redirecting,
    terminating,
    draining,
    ended,
  },
});

export type CallMachine = typeof callMachine;
