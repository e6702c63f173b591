/**
 * The user's clip handler on simulated time, against the emulator: its own
 * work holds the clock still, but never past the processing timeout, which
 * ends the run as it would on the wall clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/adapters/clock.js';
import type { Clip } from '../../src/runtime/clip.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

/** `work`, or a failure after `ms` of real time (so a wedged clock fails the test instead of hanging it). */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`still running after ${ms} ms of real time`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(t));
}

describe('clip handler on a SimulatedClock', () => {
  it('a handler that never settles and ignores its signal: processingTimeout, clip deleted, advance() returns', async () => {
    const PROCESSING = 300;
    b = await bench({ runtime: { recordPolicy: { processingTimeoutMs: PROCESSING } } });
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
    let started: number | undefined;
    const done = b.runtime.record(id, { stopTones: ['#'] }, () => {
      started = b!.rel(b!.clock.now());
      return new Promise(() => {}); // never settles, never looks at its signal
    });
    await within(10 * SEC, b.clock.advance(10 * SEC));
    const out = await within(1 * SEC, done);
    expect(started).toBe(3 * SEC); // beep 1 s + 2 s of speech
    expect(out).toMatchObject({ outcome: 'processingTimeout', at: b.t0 + 3 * SEC + PROCESSING });
    expect(b.storeOps.map((o) => [o.op, o.at])).toEqual([
      ['write', 3 * SEC],
      ['delete', 3 * SEC + PROCESSING],
    ]);
    expect(await b.store.list()).toEqual([]);
    expect(b.clock.inFlight).toBe(0);
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  });

  /** A recording of 2 s that completes at 3 s, processed by `handler`; its result. */
  async function runWith(handler: (clip: Clip, signal: AbortSignal) => unknown) {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
    const done = b.runtime.record(id, { stopTones: ['#'] }, handler);
    await within(10 * SEC, b.clock.advance(5 * MIN));
    return within(1 * SEC, done);
  }
  const realMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('real work (a 5 ms wall-clock wait) holds simulated time: processed at once, ok', async () => {
    const out = await runWith(async () => {
      await realMs(5);
      return 'heard';
    });
    expect(out).toMatchObject({ ok: true, localCopy: 'deleted', outcome: 'processed', result: 'heard' });
    expect(out.at).toBe(b!.t0 + 3 * SEC);
  });

  it('letTimeRun lets simulated time run: around a wall-clock wait the processing timeout wins', async () => {
    const out = await runWith(async (clip) => {
      // Long enough that a loaded machine still jumps to the timeout first (it takes a few turns).
      await clip.letTimeRun(realMs(500));
      return 'heard';
    });
    // Not a success, although the clip went through delete like any other.
    expect(out).toMatchObject({
      ok: false,
      localCopy: 'deleted',
      final: 'deleted',
      outcome: 'processingTimeout',
    });
    expect(out.at).toBe(b!.t0 + 3 * SEC + MIN);
  });

  it('letTimeRun around a wait on the clock: the wait ends on simulated time (wait is the old name)', async () => {
    const out = await runWith(async (clip, signal) => {
      await clip.letTimeRun(sleep(b!.clock, 10 * SEC, signal));
      await clip.wait(sleep(b!.clock, 10 * SEC, signal));
      return b!.rel(b!.clock.now());
    });
    expect(out).toMatchObject({ ok: true, outcome: 'processed', result: 23 * SEC });
  });

  it('a record that never stored a clip: ok false, localCopy none', async () => {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'hangUp', afterSeconds: 1, mode: 'complete' } } });
    b.emulator.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'status', status: 400 },
    });
    const done = b.runtime.record(id, {}, () => 'never');
    await within(10 * SEC, b.clock.advance(SEC));
    const out = await within(1 * SEC, done);
    expect(out).toMatchObject({ ok: false, localCopy: 'none', final: 'failed', outcome: 'invalidOptions' });
    expect(out.result).toBeUndefined();
  });
});
