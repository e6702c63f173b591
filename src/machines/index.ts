// The machines and their contracts (pure: no adapters, no Node APIs).
export {
  type CallContext,
  type CallEmitted,
  type CallEndReason,
  type CallEvent,
  type CallInput,
  type CallMachine,
  type CallOutput,
  callMachine,
  type RecordEntry,
  retryDelay,
} from './call.js';
export {
  type CallPolicy,
  completionWindowMs,
  DEFAULT_CALL_POLICY,
  DEFAULT_RECORD_POLICY,
  PolicyError,
  type RecordPolicy,
  resolveCallPolicy,
  resolveRecordPolicy,
} from './policy.js';
export {
  type ProcessClipInput,
  type RecordContext,
  type RecordEmitted,
  type RecordEvent,
  type RecordInput,
  type RecordMachine,
  type RecordOutcome,
  type RecordOutput,
  recordMachine,
  type StartRecordOutput,
} from './record.js';
export { asErrorJson, type Completion, type ErrorJson, type ResultInfoJson } from './types.js';
