// createCallRuntime and its types; the code lives in src/runtime/ (create.ts composes the parts).
export { GraphError } from './graph/errors.js';
export type { CallRuntime, CallRuntimeStats } from './runtime/call-runtime.js';
export { createCallRuntime } from './runtime/create.js';
export {
  type CallRuntimeOptions,
  type LogEntry,
  type NotificationAuthOptions,
  type RecordResult,
  RuntimeError,
  type RuntimeEvent,
  type StateChange,
} from './runtime/types.js';
