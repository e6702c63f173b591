/**
 * The port contracts every other folder depends on: time, HTTP, stores, app
 * tokens, ids, logging, clustering and the errors they promise. This folder
 * imports nothing of ours but types (checked by test/architecture/layers.test.ts).
 */
export { type Clock, sleep, type TimerHandle, type TrackOptions, trackWork } from './clock.js';
export type { ClusterAdapter, ClusterLogEntry, ClusterNode } from './cluster.js';
export {
  RecordingStoreError,
  type RecordingStoreErrorCode,
  SealError,
  SnapshotStoreError,
  type SnapshotStoreErrorCode,
} from './errors.js';
export type {
  HttpAdapter,
  HttpAttemptEvent,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  RetryMode,
} from './http.js';
export { type IdSource, randomIds, sequentialIds } from './ids.js';
export type { LogEntry } from './log.js';
export {
  parseRecordingTokenKey,
  parseSealKey,
  type RecordingTokenKey,
  type SealKey,
} from './recording-token-key.js';
export type { RecordingStore, SnapshotStore, StoredClip, StoredSnapshot } from './stores.js';
export type { TokenProvider } from './token.js';
