/** The typed errors the ports promise: adapters throw them, the core reads their codes. */

export type SnapshotStoreErrorCode = 'conflict' | 'unavailable' | 'invalid';

export class SnapshotStoreError extends Error {
  override readonly name = 'SnapshotStoreError';
  constructor(
    readonly code: SnapshotStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type RecordingStoreErrorCode = 'invalidKey' | 'exists' | 'notFound' | 'closed';

export class RecordingStoreError extends Error {
  override readonly name = 'RecordingStoreError';
  constructor(
    readonly code: RecordingStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class SealError extends Error {
  override readonly name = 'SealError';
  constructor(
    readonly code: 'invalidKey' | 'invalidSealed',
    message: string,
  ) {
    super(message);
  }
}
