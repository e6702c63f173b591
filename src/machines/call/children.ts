/**
 * The call machine's children: record and prompt children spawned and
 * routed to (by guard: enqueueActions + sendTo, so the diagram shows it),
 * helper requests (cancelMediaProcessing, subscribeToTone), tones.
 */
import { assign, enqueueActions } from 'xstate';
import { resolveRecordPolicy } from '../policy.js';
import { callStateActions } from './actions.js';
import {
  newTone,
  nextChildId,
  operationOf,
  queuedMarginMs,
  recordDeadline,
  routeOperation,
} from './logic.js';
import { childId, eventTime, notification } from './setup.js';

export const callChildActions = callStateActions.extend({
  actions: {
    spawnRecord: assign(({ context, event, spawn }) => {
      if (event.type !== 'RECORD') return {};
      const { id, seq } = nextChildId(context.records, context.seq.record, 'rec', event.recordId);
      const margin = queuedMarginMs(context, event);
      const policy = { ...event.policy, completionMarginMs: margin };
      spawn('recordMachine', {
        id,
        input: {
          callId: context.callId,
          recordId: id,
          clientContext: event.clientContext,
          options: event.options,
          at: event.at,
          policy,
          storeKey: event.storeKey,
          reportToParent: true,
        },
      });
      const entry = {
        clientContext: event.clientContext,
        storeKey: event.storeKey,
        operationId: null,
        operationOver: false,
        done: false,
        completionDeadlineAt: recordDeadline(event, resolveRecordPolicy(policy).completionMarginMs),
      };
      return {
        at: Math.max(context.at, event.at),
        seq: { ...context.seq, record: seq },
        records: { ...context.records, [id]: entry },
      };
    }),
    spawnPrompt: assign(({ context, event, spawn }) => {
      if (event.type !== 'PLAY_PROMPT') return {};
      const { id, seq } = nextChildId(context.prompts, context.seq.prompt, 'prompt', event.promptId);
      spawn('promptMachine', {
        id,
        input: {
          callId: context.callId,
          promptId: id,
          clientContext: event.clientContext,
          prompts: event.prompts,
          loop: event.loop ?? false,
          at: event.at,
          reportToParent: true,
        },
      });
      const entry = {
        clientContext: event.clientContext,
        operationId: null,
        operationOver: false,
        done: false,
      };
      return {
        at: Math.max(context.at, event.at),
        seq: { ...context.seq, prompt: seq },
        prompts: { ...context.prompts, [id]: entry },
      };
    }),
    spawnCancel: assign(({ context, event, spawn }) => {
      if (event.type !== 'CANCEL_MEDIA') return {};
      spawn('cancelMedia', {
        id: `cancel-${context.seq.cancel + 1}`,
        input: { callId: context.callId, clientContext: event.clientContext },
      });
      return { seq: { ...context.seq, cancel: context.seq.cancel + 1 }, at: Math.max(context.at, event.at) };
    }),
    spawnToneSubscription: assign(({ context, event, spawn }) => {
      if (event.type !== 'SUBSCRIBE_TONES') return {};
      spawn('subscribeToTone', {
        id: `tones-${context.seq.cancel + 1}`,
        input: { callId: context.callId, clientContext: event.clientContext ?? `tones-${context.callId}` },
      });
      return { seq: { ...context.seq, cancel: context.seq.cancel + 1 }, at: Math.max(context.at, event.at) };
    }),
    // Routing: the operation's completion goes to its record or prompt child (enqueue + sendTo).
    routeOperation: enqueueActions(({ context, event, enqueue }) => {
      const n = notification(event);
      const op = n && operationOf(n);
      const target = op && routeOperation(context, op);
      if (!n || !op || !target) return;
      const patch = { operationId: op.operationId, operationOver: true };
      if (target.kind === 'record') {
        const entry = context.records[target.id];
        if (entry) enqueue.assign({ records: { ...context.records, [target.id]: { ...entry, ...patch } } });
      } else {
        const entry = context.prompts[target.id];
        if (entry) enqueue.assign({ prompts: { ...context.prompts, [target.id]: { ...entry, ...patch } } });
      }
      enqueue.sendTo(target.id, {
        type: 'OPERATION_COMPLETED',
        at: n.at,
        operationId: op.operationId,
        clientContext: op.clientContext,
        status: op.status,
        completionReason: op.completionReason,
        resultInfo: op.resultInfo,
        recordingLocation: op.recordingLocation,
        hasRecording: op.hasRecording,
      });
    }),
    noteOperationId: assign(({ context, event }) => {
      if (event.type !== 'OPERATION_STARTED') return {};
      const rec = context.records[event.childId];
      if (rec)
        return {
          records: { ...context.records, [event.childId]: { ...rec, operationId: event.operationId } },
        };
      const prompt = context.prompts[event.childId];
      if (prompt)
        return {
          prompts: { ...context.prompts, [event.childId]: { ...prompt, operationId: event.operationId } },
        };
      return {};
    }),
    markChildDone: assign(({ context, event }) => {
      const id = childId(event);
      const rec = context.records[id];
      if (rec) return { records: { ...context.records, [id]: { ...rec, done: true } } };
      const prompt = context.prompts[id];
      if (prompt) return { prompts: { ...context.prompts, [id]: { ...prompt, done: true } } };
      return {};
    }),
    // Live children hear that the call ended (a finished one is skipped).
    tellChildrenCallEnded: enqueueActions(({ context, enqueue }) => {
      const at = context.end.endedAt ?? context.at;
      for (const [id, e] of [...Object.entries(context.records), ...Object.entries(context.prompts)])
        if (!e.done) enqueue.sendTo(id, { type: 'CALL_ENDED', at });
    }),
    // Restored children lost their timers too: pass RESUME on.
    resumeChildren: enqueueActions(({ context, enqueue }) => {
      for (const [id, e] of [...Object.entries(context.records), ...Object.entries(context.prompts)])
        if (!e.done) enqueue.sendTo(id, { type: 'RESUME', at: context.at });
    }),
    takeTone: assign(({ context, event }) => {
      const n = notification(event);
      const tone = n && newTone(context, n);
      return tone
        ? { seq: { ...context.seq, lastTone: tone.sequenceId }, at: eventTime(context.at, event) }
        : {};
    }),
  },
});
