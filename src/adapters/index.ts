// `graph-call-machines/adapters`: the extension points around the root's adapters and runtime: the
// option and result types of the clocks, stores, HTTP adapter, tokens and Graph client, the retry
// policy, the port contracts (cluster, log entry, recording token key), and the runtime's event,
// persistence and clip types. Re-exports only; the layering test treats this file as an entry.

export type { PlacedCall, RequestOptions, Started } from '../graph/call-client.js';
export {
  DEFAULT_GRAPH_URL,
  type Download,
  type GraphClientOptions,
  graphVersion,
  type RecordStarted,
} from '../graph/client.js';
export type { GraphErrorKind } from '../graph/errors.js';
// The whole call: what onIncomingCall gets and returns, and the options of answer, placeCall, playPrompt.
export type {
  AnswerOptions,
  IncomingCall,
  IncomingDecision,
  OnIncomingCall,
  PlaceCallOptions,
  PlayPromptOptions,
  RedirectDecision,
} from '../options/calls.js';
export type { ClusterAdapter, ClusterNode } from '../ports/cluster.js';
export {
  RecordingStoreError,
  type RecordingStoreErrorCode,
  SealError,
  SnapshotStoreError,
  type SnapshotStoreErrorCode,
} from '../ports/errors.js';
export type { HttpAttemptEvent, HttpMethod, HttpRequest, HttpResponse, RetryMode } from '../ports/http.js';
export type { LogEntry } from '../ports/log.js';
export type { RecordingTokenKey, SealKey } from '../ports/recording-token-key.js';
export type { StoredClip, StoredSnapshot } from '../ports/stores.js';
export type { CallRuntimeStats } from '../runtime/call-runtime.js';
export type { ClipHandler } from '../runtime/clip.js';
export type { ToneEvent } from '../runtime/context.js';
export { PersistenceError, type ResumeNote, type SnapshotEnvelope } from '../runtime/persistence.js';
export type { NotificationAuthOptions, RuntimeEvent, StateChange } from '../runtime/types.js';
export type { WavInfo } from '../runtime/wav.js';
export { type SimulatedClockOptions, sleep, type TimerHandle, type TrackOptions } from './clock.js';
export type { FileRecordingStore, FileRecordingStoreOptions } from './file-store.js';
export type { MemoryRecordingStore } from './memory-store.js';
export { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from './retry-policy.js';
export type { MemorySnapshotStore } from './snapshot-store.js';
export {
  fromTokenCredential,
  type TokenCredentialLike,
  type TokenCredentialOptions,
} from './token.js';
