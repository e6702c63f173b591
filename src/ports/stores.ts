/**
 * The store ports. A RecordingStore holds a downloaded clip only while the
 * user's handler processes it (media must not be persisted: Microsoft APIs
 * terms); a SnapshotStore keeps each call's persisted XState snapshot so a
 * restarted process, or another instance, resumes the call without missing
 * its 45-minute keepAlive deadline. Both keep opaque data by key.
 */
import type { Readable } from 'node:stream';

export interface StoredClip {
  key: string;
  /** File path, when the store keeps clips on disk. */
  path?: string;
  bytes: number;
}

export interface RecordingStore {
  /**
   * Stream `body` into a new entry under `key`. Never buffers the whole clip
   * (file store). On any error the partial entry is removed before rejecting.
   */
  write(key: string, body: Readable | AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StoredClip>;
  /** Read an entry back. */
  open(key: string): Readable;
  /** Remove an entry; resolves also when it does not exist. */
  delete(key: string): Promise<void>;
  /** Keys currently held (for leak checks: "files left: 0"). */
  list(): Promise<string[]>;
  /** Remove everything and release resources (the file store deletes its private directory). */
  close(): Promise<void>;
}

export interface StoredSnapshot {
  /** Normalised call id (lower-case GUID) the snapshot was saved under. */
  callId: string;
  /** The envelope the runtime wrote (JSON text). */
  json: string;
}

export interface SnapshotStore {
  /**
   * Replace the call's snapshot. A store shared by several instances rejects
   * with `SnapshotStoreError` code `conflict` when another instance owns the
   * call: the runtime then stops its local copy of the call.
   */
  save(callId: string, json: string): Promise<void>;
  /**
   * The snapshots to restore. A plain store returns all of them; a shared
   * store returns the ones this instance has just taken ownership of.
   */
  loadAll(): Promise<StoredSnapshot[]>;
  /** Forget the call (it ended). Resolves also when there is nothing to delete. */
  delete(callId: string): Promise<void>;
  /** Release resources (connections); snapshots stay. */
  close?(): Promise<void>;
}
