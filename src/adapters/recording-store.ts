/**
 * Where downloaded clips live between download and delete. Media must not be
 * persisted (Microsoft APIs terms), so a store holds a clip only while the
 * user's handler processes it; the record machine always deletes it after.
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
