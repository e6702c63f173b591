/**
 * The default RecordingStore: one private temp directory (0700), one file per
 * clip (0600, created exclusively), written as a stream so a clip is never
 * held in memory. A failed or aborted write leaves no file behind, and
 * `close()` removes the directory with everything in it.
 */
import { setMaxListeners } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Clock, systemClock, trackWork } from './clock.js';
import type { RecordingStore, StoredClip } from './recording-store.js';
import { assertSafeKey, closedStore, discard, notFound, RecordingStoreError } from './store-key.js';

export interface FileRecordingStoreOptions {
  /**
   * A directory to use (created 0700 if missing; close() then removes only the
   * clips, not the directory). Default: a fresh private temp directory.
   */
  dir?: string;
  /** Writes and deletes are tracked on it, so a simulated clock waits for the disk. */
  clock?: Clock;
}

export interface FileRecordingStore extends RecordingStore {
  /** The directory clips are written to (made on first use). */
  readonly dir: Promise<string>;
}

const SUFFIX = '.clip';

const isErrno = (err: unknown, code: string) => (err as NodeJS.ErrnoException | null)?.code === code;

export function createFileRecordingStore(options: FileRecordingStoreOptions = {}): FileRecordingStore {
  const clock = options.clock ?? systemClock;
  const ownsDir = options.dir === undefined;
  let dirPromise: Promise<string> | undefined;
  // Known once made; open() is synchronous and reads it.
  let dirPath: string | undefined;
  let closed = false;
  // close() aborts the writes still running and waits for their cleanup.
  const closing = new AbortController();
  // Every running write listens on it (and removes its listener when done): no leak to warn about.
  setMaxListeners(0, closing.signal);
  const running = new Set<Promise<unknown>>();

  function ensureDir(): Promise<string> {
    if (!dirPromise) {
      const made = options.dir
        ? mkdir(options.dir, { recursive: true, mode: 0o700 }).then(() => resolve(options.dir as string))
        : mkdtemp(join(tmpdir(), 'graph-call-machines-'));
      dirPromise = made.then(
        (d) => {
          dirPath = d;
          return d;
        },
        (err: unknown) => {
          dirPromise = undefined; // let the next write try again
          throw err;
        },
      );
    }
    return dirPromise;
  }

  const fileOf = (dir: string, key: string) => join(dir, assertSafeKey(key) + SUFFIX);

  async function writeClip(
    key: string,
    body: Readable | AsyncIterable<Uint8Array>,
    signal: AbortSignal | undefined,
  ): Promise<StoredClip> {
    let path: string | undefined;
    let created = false;
    try {
      assertSafeKey(key);
      if (closed) throw closedStore();
      const abort = signal ? AbortSignal.any([signal, closing.signal]) : closing.signal;
      abort.throwIfAborted();
      path = fileOf(await ensureDir(), key);
      // An exclusive open ('wx') that runs while the first bytes arrive, as a raw
      // createWriteStream does (waiting for it first cost a single download about a third of
      // its throughput, bench/download.ts). The file is ours to remove on failure only once
      // 'open' fired: an EEXIST must never delete somebody else's clip. A path-opened stream
      // writes through the fd with callbacks; one made from a FileHandle pays a promise per chunk.
      const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
      file.once('open', () => {
        created = true;
      });
      try {
        // pipeline: backpressure from the disk to the source; on error or abort it destroys
        // every stage (the source too) and the file stream closes its fd. The stream
        // counts what reached the file: no extra stage copying chunks to count them.
        await pipeline(body, file, { signal: abort });
      } catch (err) {
        // Once closed, the stream has said whether its open succeeded.
        if (!file.closed) await new Promise<void>((r) => file.once('close', () => r()));
        if (!created && isErrno(err, 'EEXIST'))
          throw new RecordingStoreError('exists', `a clip exists under key ${key}`);
        throw err;
      }
      return { key, path, bytes: file.bytesWritten };
    } catch (err) {
      discard(body);
      if (created && path) await unlink(path).catch(() => {});
      // pipeline reports any abort as a generic AbortError; say when it was close().
      if (closing.signal.aborted && !signal?.aborted) throw closedStore();
      throw err;
    }
  }

  function track<T>(work: Promise<T>): Promise<T> {
    running.add(work);
    const done = () => running.delete(work);
    work.then(done, done);
    return trackWork(clock, work);
  }

  return {
    get dir() {
      return ensureDir();
    },

    write(key, body, signal) {
      return track(writeClip(key, body, signal));
    },

    open(key) {
      assertSafeKey(key);
      if (!dirPath || closed) {
        // Same shape as a missing file: the error arrives on the stream.
        const empty = new PassThrough();
        queueMicrotask(() => empty.destroy(closed ? closedStore() : notFound(key)));
        return empty;
      }
      // The store's own notFound error for a missing file, as the memory store reports it.
      const file = createReadStream(fileOf(dirPath, key));
      const out = new PassThrough();
      file.once('error', (err) => out.destroy(isErrno(err, 'ENOENT') ? notFound(key) : err));
      out.once('close', () => file.destroy());
      return file.pipe(out);
    },

    async delete(key) {
      assertSafeKey(key);
      // A given directory may hold clips of an earlier process (a restart): look there too.
      const dir = dirPath ?? (options.dir === undefined ? undefined : await ensureDir());
      if (!dir) return;
      await track(
        unlink(fileOf(dir, key)).catch((err: unknown) => {
          if (!isErrno(err, 'ENOENT')) throw err;
        }),
      );
    },

    async list() {
      if (closed) return [];
      const dir =
        dirPath ?? (options.dir === undefined ? undefined : await ensureDir().catch(() => undefined));
      if (!dir) return [];
      const names = await readdir(dir).catch(() => [] as string[]);
      return names
        .filter((n) => n.endsWith(SUFFIX))
        .map((n) => n.slice(0, -SUFFIX.length))
        .filter((k) => {
          try {
            return assertSafeKey(k) === k;
          } catch {
            return false;
          }
        });
    },

    async close() {
      if (closed) return;
      closed = true;
      closing.abort(closedStore());
      await Promise.allSettled([...running]);
      const dir = await dirPromise?.catch(() => undefined);
      if (!dir) return;
      if (ownsDir) {
        await trackWork(clock, rm(dir, { recursive: true, force: true }));
        return;
      }
      const names = await readdir(dir).catch(() => [] as string[]);
      await trackWork(
        clock,
        Promise.all(names.filter((n) => n.endsWith(SUFFIX)).map((n) => unlink(join(dir, n)).catch(() => {}))),
      );
    },
  };
}
