// The root entry: the machines and their I/O, the runtime, errors, clocks, tokens, the HTTP adapter,
// the Graph client, stores and the `schemas` namespace. Everything else is on a subpath
// (./adapters, ./notifications, ./testing, ./emulator, ./redis, ./view); test/architecture/surface.test.ts
// keeps this at 40 names at most.
export { type Clock, SimulatedClock, systemClock } from './adapters/clock.js';
export { createFileRecordingStore } from './adapters/file-store.js';
export { createMemoryRecordingStore } from './adapters/memory-store.js';
export { createMemorySnapshotStore } from './adapters/snapshot-store.js';
export { clientCredentials, staticToken } from './adapters/token.js';
export { createUndiciHttp, type UndiciHttpOptions } from './adapters/undici-http.js';
export { createGraphClient, type GraphClient } from './graph/client.js';
export { GraphError } from './graph/errors.js';
export {
  type CallInput,
  type CallOutput,
  type CallPolicy,
  callMachine,
  PolicyError,
  type PromptInput,
  type PromptOutput,
  promptMachine,
  type RecordInput,
  type RecordOutput,
  type RecordPolicy,
  recordMachine,
} from './machines/index.js';
export { NotificationError } from './notifications/errors.js';
export { OptionsError } from './options/error.js';
export type { HttpAdapter } from './ports/http.js';
export type { RecordingStore, SnapshotStore } from './ports/stores.js';
export type { TokenProvider } from './ports/token.js';
export type { Clip } from './runtime/clip.js';
export {
  type CallRuntime,
  type CallRuntimeOptions,
  createCallRuntime,
  type RecordResult,
  RuntimeError,
} from './runtime.js';
export * as schemas from './schemas.js';
