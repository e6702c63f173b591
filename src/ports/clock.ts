/**
 * The time port. Every timer (machine delays, retry backoff, HTTP timeouts,
 * emulator expiry) goes through one injected Clock; systemClock and
 * SimulatedClock (src/adapters/clock.ts) implement it.
 */

export type TimerHandle = unknown;

export interface TrackOptions {
  /**
   * Real milliseconds after which `work` no longer holds a simulated clock
   * still, settled or not: the caller gives up on it at that point (a timeout
   * on this clock abandons it), as the wall clock would have by then. Without
   * it, work that never settles holds a simulated clock forever.
   */
  holdAtMostMs?: number;
}

/** What XState's `clock` option needs, plus `now()` and an in-flight hook. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /**
   * Tell the clock that `work` is in flight (an HTTP exchange, a file write).
   * A simulated clock does not move while tracked work is pending (or until
   * `holdAtMostMs` real ms have passed); the system clock ignores it. Returns
   * `work` itself.
   */
  track?<T>(work: Promise<T>, options?: TrackOptions): Promise<T>;
  /**
   * Mark one tracked piece of work as waiting on this clock (an emulated slow
   * response holding a request open). Until `release()` is called, that work
   * no longer holds simulated time still.
   */
  park?(): () => void;
}

/** Track `work` on `clock` when the clock cares, else return it untouched. */
export function trackWork<T>(clock: Clock, work: Promise<T>, options?: TrackOptions): Promise<T> {
  return clock.track ? clock.track(work, options) : work;
}

/** A promise that resolves after `ms` of the clock's time. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
