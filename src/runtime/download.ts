/**
 * Recording downloads: stream a clip from its recordingLocation into the
 * store, under a cap on downloads in flight. Each download holds socket and
 * stream buffers until the disk takes them: 200 at once grew RSS by 120-235 MB
 * in bench/download.ts, while 16 saturate the disk and the link as well.
 * Queued downloads start in arrival order as slots free up.
 *
 * The queue wait is not tracked on the clock: a queued download waits for
 * other downloads, which are tracked themselves (and may be parked on a
 * simulated delay, which a tracked waiter would wedge).
 */

import type { GraphClient } from '../graph/client.js';
import { GraphError } from '../graph/errors.js';
import { type Clock, sleep, trackWork } from '../ports/clock.js';
import { RecordingStoreError } from '../ports/errors.js';
import type { RecordingStore, StoredClip } from '../ports/stores.js';

/** bench/download.ts, 200 clips at once: 16 in flight match raw undici with all 200 (~450 MB/s) at a third of its RSS growth. */
export const DEFAULT_MAX_DOWNLOADS = 16;

export interface DownloadSlots {
  /** Run `work` once a slot is free; a queued entry leaves the queue when `signal` aborts. */
  run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly queued: number;
}

export function createDownloadSlots(max: number): DownloadSlots {
  if (!(max >= 1)) throw new RangeError(`maxConcurrentDownloads must be >= 1, got ${max}`);
  let active = 0;
  const waiting: Array<() => void> = [];

  function acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (active < max) {
      active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        active++;
        resolve();
      };
      const onAbort = () => {
        const i = waiting.indexOf(grant);
        if (i >= 0) waiting.splice(i, 1);
        reject(signal?.reason);
      };
      waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function release() {
    active--;
    waiting.shift()?.();
  }

  return {
    async run(work, signal) {
      await acquire(signal);
      try {
        return await work();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get queued() {
      return waiting.length;
    },
  };
}

export interface DownloadJob {
  recordingLocation: string;
  /** The recordingAccessToken: sent to the recording host only. */
  accessToken: string;
  storeKey: string;
  signal?: AbortSignal;
  /** Told the store write as soon as it starts, so a delete can wait for it. */
  onWrite?: (write: Promise<StoredClip>) => void;
}

/**
 * Waits before downloading again after a failure the HTTP adapter's own
 * attempts did not get past (a host down for a few seconds, a body cut off
 * mid-stream). Graph keeps a clip only a short while after the call ends; a
 * 404 ends the retries at once.
 */
export const DOWNLOAD_RETRY_DELAYS_MS: readonly number[] = [5_000, 20_000, 60_000];

/** Another whole download may succeed: not for 4xx, a full disk, or a record that moved on. */
function worthRetrying(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  if (err instanceof GraphError) return err.isTransient;
  if (err instanceof RecordingStoreError) return false;
  // The body broke off mid-stream (reset, body timeout): the store removed the partial clip.
  return true;
}

export interface DownloadDeps {
  clock: Clock;
  graph: GraphClient;
  store: RecordingStore;
  slots: DownloadSlots;
  /** Default DOWNLOAD_RETRY_DELAYS_MS; `[]` for none. */
  retryDelaysMs?: readonly number[];
}

/**
 * Download one clip into the store, once a slot is free, retrying whole
 * downloads after transient failures. A failed attempt leaves nothing stored;
 * a retry wait holds no slot.
 */
export async function downloadToStore(deps: DownloadDeps, job: DownloadJob): Promise<StoredClip> {
  const delays = deps.retryDelaysMs ?? DOWNLOAD_RETRY_DELAYS_MS;
  for (let retry = 0; ; retry++) {
    try {
      return await deps.slots.run(() => downloadOnce(deps, job), job.signal);
    } catch (err) {
      const wait = delays[retry];
      if (wait === undefined || !worthRetrying(err, job.signal)) throw err;
      await sleep(deps.clock, wait, job.signal);
    }
  }
}

async function downloadOnce(deps: DownloadDeps, job: DownloadJob): Promise<StoredClip> {
  // The GET is tracked by the HTTP adapter; streaming the body into the store is tracked here.
  const dl = await deps.graph.downloadRecording(job.recordingLocation, job.accessToken, {
    signal: job.signal,
  });
  const write = trackWork(deps.clock, deps.store.write(job.storeKey, dl.body, job.signal));
  job.onWrite?.(write);
  return write;
}
