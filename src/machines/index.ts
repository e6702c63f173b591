// The machines and their contracts (pure: no adapters, no Node APIs).
export type * from './call/io.js';
export { retryDelay, routeOperation } from './call/logic.js';
export { type CallMachine, callMachine } from './call/machine.js';
export type {
  CallContext,
  CallEmitted,
  CallEndReason,
  CallEvent,
  CallInput,
  CallOffer,
  CallOutput,
  CallStart,
  ChildEntry,
  PromptRequest,
  RecordEntry,
  RecordRequest,
} from './call/types.js';
export { CALL_END_REASONS } from './call/types.js';
export { isCanceled, readResultInfo } from './graph-answers.js';
export {
  type CallNotice,
  endsCall,
  type NotificationEvent,
  type OperationNotice,
  type ToneJson,
} from './notification.js';
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
export { type PromptMachine, promptMachine } from './prompt/machine.js';
export type * from './prompt/types.js';
export { type RecordMachine, recordMachine } from './record/machine.js';
export type * from './record/types.js';
export { asErrorJson, type Completion, type ErrorJson, type ResultInfoJson } from './types.js';
