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
