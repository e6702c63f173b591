// Public surface: re-exports only.
export {
  type Clock,
  SimulatedClock,
  type SimulatedClockOptions,
  sleep,
  systemClock,
  trackWork,
} from './adapters/clock.js';
export {
  createFileRecordingStore,
  type FileRecordingStore,
  type FileRecordingStoreOptions,
} from './adapters/file-store.js';
export type { HttpAdapter, HttpAttemptEvent, HttpRequest, HttpResponse, RetryMode } from './adapters/http.js';
export { createMemoryRecordingStore, type MemoryRecordingStore } from './adapters/memory-store.js';
export type { RecordingStore, StoredClip } from './adapters/recording-store.js';
export {
  DEFAULT_RETRY_POLICY,
  decideRetry,
  parseRetryAfter,
  type RetryDecision,
  type RetryPolicy,
} from './adapters/retry-policy.js';
export {
  createMemorySnapshotStore,
  type MemorySnapshotStore,
  type SnapshotStore,
  SnapshotStoreError,
  type StoredSnapshot,
} from './adapters/snapshot-store.js';
export { RecordingStoreError } from './adapters/store-key.js';
export {
  clientCredentials,
  fromTokenCredential,
  staticToken,
  type TokenCredentialLike,
  type TokenCredentialOptions,
  type TokenProvider,
} from './adapters/token.js';
export { createUndiciHttp, type UndiciHttpOptions } from './adapters/undici-http.js';
export { eventLabel, toMermaid } from './diagram.js';
export type { PlacedCall, RequestOptions, Started } from './graph/call-client.js';
export * from './graph/call-requests.js';
export * from './graph/call-resources.js';
export {
  createGraphClient,
  DEFAULT_GRAPH_URL,
  type Download,
  type GraphClient,
  type GraphClientOptions,
  graphVersion,
  type RecordStarted,
} from './graph/client.js';
export { GraphError, type GraphErrorKind } from './graph/errors.js';
export { normalizeId, parseResourceUrl, sameId } from './graph/ids.js';
export { CURRENT_SERVICE_LIMITS, DEFAULT_LIMITS, type RecordLimits, SPEC_LIMITS } from './graph/limits.js';
export * from './graph/schemas.js';
export * from './machines/index.js';
export * from './notifications/index.js';
// The whole call (issue 15): offers, placed calls, prompts, key presses.
export type {
  AnswerOptions,
  IncomingCall,
  IncomingDecision,
  OnIncomingCall,
  PlaceCallOptions,
  PlayPromptOptions,
  RedirectDecision,
} from './options/calls.js';
export { OptionsError } from './options/error.js';
export type { Clip, ClipHandler } from './runtime/clip.js';
export type { ClusterAdapter, ClusterNode } from './runtime/cluster.js';
export type { ToneEvent } from './runtime/context.js';
export {
  PersistenceError,
  type ResumeNote,
  SNAPSHOT_FORMAT,
  type SnapshotEnvelope,
} from './runtime/persistence.js';
export { type RecordingTokenKey, SealError, type SealKey } from './runtime/seal.js';
export { parseWavHeader, type WavInfo } from './runtime/wav.js';
export {
  type CallRuntime,
  type CallRuntimeOptions,
  createCallRuntime,
  type LogEntry,
  type NotificationAuthOptions,
  type RecordResult,
  RuntimeError,
  type RuntimeEvent,
  type StateChange,
} from './runtime.js';
