import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/adapters/clock.js';

const MIN = 60_000;

describe('SimulatedClock', () => {
  it('fires a re-armed 15-minute timer four times in one 60-minute advance, each at its own time', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const fired: number[] = [];
    const arm = () =>
      clock.setTimeout(() => {
        fired.push(clock.now());
        arm();
      }, 15 * MIN);
    arm();
    await clock.advance(60 * MIN);
    expect(fired).toEqual([15 * MIN, 30 * MIN, 45 * MIN, 60 * MIN]);
    expect(clock.now()).toBe(60 * MIN);
  });

  it('fires timers in (due, creation) order and skips cleared ones', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const order: string[] = [];
    clock.setTimeout(() => order.push('b'), 10);
    clock.setTimeout(() => order.push('a'), 5);
    const c = clock.setTimeout(() => order.push('c'), 7);
    clock.setTimeout(() => order.push('d'), 10);
    clock.clearTimeout(c);
    await clock.advance(10);
    expect(order).toEqual(['a', 'b', 'd']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('clears only its own timers: a handle from another clock, a stale or an odd value changes nothing', async () => {
    const a = new SimulatedClock({ start: 0 });
    const b = new SimulatedClock({ start: 0 });
    const fired: string[] = [];
    const ha = a.setTimeout(() => fired.push('a'), 5);
    b.setTimeout(() => fired.push('b'), 5);
    b.clearTimeout(ha);
    b.clearTimeout(1);
    b.clearTimeout(undefined);
    expect(b.pendingTimers).toBe(1);
    await b.advance(5);
    await a.advance(5);
    a.clearTimeout(ha);
    a.clearTimeout(ha);
    expect(fired).toEqual(['b', 'a']);
    expect([a.pendingTimers, b.pendingTimers]).toEqual([0, 0]);
  });

  it('lets go of a cleared timer callback at once, not when its due time comes', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const clock = new SimulatedClock({ start: 0 });
    // Only the callback holds the array once armThenClear() returns.
    const armThenClear = () => {
      const big: number[] = new Array(1000).fill(1);
      clock.clearTimeout(clock.setTimeout(() => big.length, 45 * MIN));
      return new WeakRef(big);
    };
    const ref = armThenClear();
    // deref() keeps its target for the rest of the job: collect only in later turns.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not move time while tracked work is in flight', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const seen: number[] = [];
    clock.setTimeout(() => {
      // Work started by a timer that finishes after a few real event-loop turns.
      void clock.track(
        new Promise<void>((r) => setTimeout(r, 20)).then(() => {
          seen.push(clock.now());
          clock.setTimeout(() => seen.push(clock.now()), 5);
        }),
      );
    }, 5);
    await clock.advance(100);
    expect(seen).toEqual([5, 10]);
  });

  it('lets parked work wait on the clock instead of blocking it', async () => {
    const clock = new SimulatedClock({ start: 0 });
    let doneAt = -1;
    const work = new Promise<void>((resolve) => {
      const release = clock.park();
      clock.setTimeout(() => {
        release();
        doneAt = clock.now();
        resolve();
      }, 2000);
    });
    void clock.track(work);
    await clock.advance(5000);
    expect(doneAt).toBe(2000);
  });
});

describe('SimulatedClock settling', () => {
  it('sleeps while tracked work waits on real time instead of spinning event-loop turns', async () => {
    const clock = new SimulatedClock({ start: 0 });
    let turns = 0;
    const real = globalThis.setImmediate;
    globalThis.setImmediate = ((...args: Parameters<typeof setImmediate>) => {
      turns++;
      return real(...args);
    }) as typeof setImmediate;
    try {
      clock.setTimeout(() => void clock.track(new Promise<void>((r) => setTimeout(r, 30))), 5);
      await clock.advance(10);
    } finally {
      globalThis.setImmediate = real;
    }
    // The quiet turns before and after the timer (3 each by default), not one per pass of the loop.
    expect(turns).toBeLessThanOrEqual(8);
    expect(clock.now()).toBe(10);
  });
});
