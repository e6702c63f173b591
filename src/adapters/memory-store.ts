/**
 * A RecordingStore in memory, for tests: the file store's semantics (safe keys,
 * no overwrite, nothing kept from a failed or aborted write, close() empties
 * it) with Buffers in a Map instead of files.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RecordingStore, StoredClip } from './recording-store.js';
import { assertSafeKey, closedStore, discard, notFound, RecordingStoreError } from './store-key.js';

export interface MemoryRecordingStore extends RecordingStore {
  /** Bytes held right now, all clips together. */
  readonly bytesHeld: number;
}

export function createMemoryRecordingStore(): MemoryRecordingStore {
  const clips = new Map<string, Buffer>();
  // Keys being written: a second write to the same key fails like the file store's exclusive create.
  const writing = new Set<string>();
  const closing = new AbortController();
  const running = new Set<Promise<unknown>>();

  async function writeClip(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    signal: AbortSignal | undefined,
  ): Promise<StoredClip> {
    let reserved = false;
    try {
      assertSafeKey(key);
      if (closing.signal.aborted) throw closedStore();
      const abort = signal ? AbortSignal.any([signal, closing.signal]) : closing.signal;
      abort.throwIfAborted();
      if (clips.has(key) || writing.has(key))
        throw new RecordingStoreError('exists', `a clip exists under key ${key}`);
      writing.add(key);
      reserved = true;
      const chunks: Buffer[] = [];
      let bytes = 0;
      const sink = new Writable({
        // Chunks arrive as Buffers (decodeStrings); copy, as a source may reuse its buffer.
        write(chunk: Buffer, _enc, cb) {
          chunks.push(Buffer.from(chunk));
          bytes += chunk.length;
          cb();
        },
      });
      await pipeline(body, sink, { signal: abort });
      clips.set(key, Buffer.concat(chunks, bytes));
      return { key, bytes };
    } catch (err) {
      discard(body);
      // pipeline reports any abort as a generic AbortError; say when it was close().
      if (closing.signal.aborted && !signal?.aborted) throw closedStore();
      throw err;
    } finally {
      if (reserved) writing.delete(key);
    }
  }

  return {
    get bytesHeld() {
      let n = 0;
      for (const b of clips.values()) n += b.length;
      return n;
    },

    write(key, body, signal) {
      const work = writeClip(key, body, signal);
      running.add(work);
      const done = () => running.delete(work);
      work.then(done, done);
      return work;
    },

    open(key) {
      const b = clips.get(assertSafeKey(key));
      if (b) return Readable.from([b]);
      // Missing: the error arrives on the stream, as a missing file's does.
      const empty = new PassThrough();
      queueMicrotask(() => empty.destroy(closing.signal.aborted ? closedStore() : notFound(key)));
      return empty;
    },

    async delete(key) {
      clips.delete(assertSafeKey(key));
    },

    async list() {
      return [...clips.keys()];
    },

    async close() {
      closing.abort(closedStore());
      await Promise.allSettled([...running]);
      clips.clear();
    },
  };
}
