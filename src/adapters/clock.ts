/**
 * Time for the whole library. Every timer (machine delays, retry backoff, HTTP
 * timeouts, emulator expiry) goes through one injected Clock, so the same code
 * runs on the wall clock in production and on simulated time in tests.
 */

import type { Clock, TimerHandle, TrackOptions } from '../ports/clock.js';

export { type Clock, sleep, type TimerHandle, type TrackOptions, trackWork } from '../ports/clock.js';

/** The wall clock. Long delays are chained so Node's 2^31-1 ms cap never bites. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const box: { t?: NodeJS.Timeout } = {};
    const MAX = 2 ** 31 - 1;
    const arm = (left: number) => {
      box.t = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(Math.max(0, left), MAX));
    };
    arm(ms);
    return box;
  },
  clearTimeout(handle) {
    const t = (handle as { t?: NodeJS.Timeout } | undefined)?.t;
    if (t) clearTimeout(t);
  },
};

/**
 * A pending timer, and its own handle: clearing drops `fn` at once (so a cleared timer no longer keeps
 * its callback's closure alive while it waits in the heap) and needs no id map beside the heap.
 */
class Timer {
  constructor(
    readonly owner: SimulatedClock,
    readonly id: number,
    readonly due: number,
    public fn: (() => void) | undefined,
  ) {}
}

export interface SimulatedClockOptions {
  /** Start time in epoch ms (default 2026-01-01T00:00:00Z, so timestamps read like dates). */
  start?: number;
  /** setImmediate turns with nothing in flight that count as "settled" (default 3). */
  idleTurns?: number;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A discrete-event clock: `advance(ms)` fires every due timer at its own time,
 * in (due, creation) order, and lets in-flight work settle before each jump, so
 * a timer re-armed by a callback fires again within the same advance (unlike
 * XState's SimulatedClock.increment, which fires each pending timer once).
 */
export class SimulatedClock implements Clock {
  #now: number;
  #seq = 0;
  /** Timers set and neither fired nor cleared. */
  #pending = 0;
  #heap = new TimerHeap();
  #inflight = 0;
  #parked = 0;
  #settled: Array<() => void> = [];
  #idleTurns: number;
  #advancing = false;

  constructor(options: SimulatedClockOptions = {}) {
    this.#now = options.start ?? Date.UTC(2026, 0, 1);
    this.#idleTurns = options.idleTurns ?? 3;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) ? Math.max(0, ms) : 0;
    const timer = new Timer(this, ++this.#seq, this.#now + delay, fn);
    this.#pending++;
    this.#heap.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    // Another clock's handle, an unknown value, or a timer already fired or cleared: nothing to do.
    if (!(handle instanceof Timer) || handle.owner !== this || !handle.fn) return;
    handle.fn = undefined;
    this.#pending--;
  }

  track<T>(work: Promise<T>, options: TrackOptions = {}): Promise<T> {
    this.#inflight++;
    let holding = true;
    let limit: NodeJS.Timeout | undefined;
    const letGo = () => {
      if (!holding) return;
      holding = false;
      if (limit) clearTimeout(limit);
      this.#inflight--;
      this.#wake();
    };
    const { holdAtMostMs } = options;
    // A real timer on purpose: the work runs in real time, and simulated time is what it holds.
    if (holdAtMostMs !== undefined && Number.isFinite(holdAtMostMs)) {
      limit = setTimeout(letGo, Math.max(0, holdAtMostMs));
      limit.unref();
    }
    work.then(letGo, letGo);
    return work;
  }

  park(): () => void {
    this.#parked++;
    let released = false;
    this.#wake();
    return () => {
      if (released) return;
      released = true;
      this.#parked--;
    };
  }

  /** Pending timers (for assertions and leak checks). */
  get pendingTimers(): number {
    return this.#pending;
  }

  /** Work currently tracked and not parked. */
  get inFlight(): number {
    return Math.max(0, this.#inflight - this.#parked);
  }

  /** Due time of the next timer, if any. */
  nextDue(): number | undefined {
    return this.#peekLive()?.due;
  }

  #wake() {
    const waiters = this.#settled;
    this.#settled = [];
    for (const w of waiters) w();
  }

  /** Wait until no tracked work is pending and a few event-loop turns pass quietly. */
  async settle(): Promise<void> {
    let quiet = 0;
    while (quiet < this.#idleTurns) {
      if (this.inFlight > 0) {
        quiet = 0;
        // Sleep until a completion, a park or a hold running out: every change that lowers inFlight
        // wakes us, so polling with setImmediate would only spin a core for as long as the work takes
        // in real time. Tracked work that never settles holds the clock for good unless it was
        // tracked with holdAtMostMs.
        await new Promise<void>((r) => this.#settled.push(r));
        continue;
      }
      await turn();
      if (this.inFlight === 0) quiet++;
    }
  }

  /** Fire every timer due within `ms`, each at its own time, settling in between. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + Math.max(0, ms));
  }

  /** Like `advance`, to an absolute time. */
  async advanceTo(end: number): Promise<void> {
    if (this.#advancing) throw new Error('SimulatedClock.advance is already running; await the first call');
    this.#advancing = true;
    try {
      await this.settle();
      for (;;) {
        const next = this.#nextTimer(end);
        if (!next?.fn) break;
        const { fn } = next;
        next.fn = undefined;
        this.#pending--;
        this.#now = Math.max(this.#now, next.due);
        fn();
        await this.settle();
      }
      if (end > this.#now) this.#now = end;
    } finally {
      this.#advancing = false;
    }
  }

  /**
   * Advance timer by timer until `done()` is true or `limitMs` passes.
   * Returns whether the condition was met.
   */
  async runUntil(done: () => boolean, limitMs = 24 * 3600_000): Promise<boolean> {
    const end = this.#now + limitMs;
    await this.advance(0);
    while (!done()) {
      const next = this.nextDue();
      if (next === undefined || next > end) {
        await this.advanceTo(end);
        return done();
      }
      await this.advanceTo(next);
    }
    return true;
  }

  #nextTimer(end: number): Timer | undefined {
    const next = this.#peekLive();
    if (!next || next.due > end) return undefined;
    this.#heap.pop();
    return next;
  }

  // Cleared timers stay in the heap and are dropped lazily when they surface.
  #peekLive(): Timer | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (!top || top.fn) return top;
      this.#heap.pop();
    }
  }
}

/** Binary min-heap on (due, id): 100k pending timers stay O(log n) per fire. */
class TimerHeap {
  #a: Timer[] = [];

  peek(): Timer | undefined {
    return this.#a[0];
  }

  push(t: Timer): void {
    const a = this.#a;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): Timer | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (x: Timer, y: Timer) => x.due < y.due || (x.due === y.due && x.id < y.id);
