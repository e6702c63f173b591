/**
 * One call's failure never disturbs another: a throwing handler, a storm of
 * 500s, a call that ends; the other call keeps its cadence and its clip.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordOptionsInput } from '../../src/graph/schemas.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const script = { caller: { kind: 'speak' as const, seconds: 3, thenTone: '#' as const } };
const options: RecordOptionsInput = { stopTones: ['#'], maxRecordDurationInSeconds: 30 };

describe('one call fails, the other carries on', () => {
  it('a handler that throws on call A while call B records normally', async () => {
    b = await bench();
    const a = b.call({ script });
    const c = b.call({ script });
    const outA = b.runtime.record(a, options, () => {
      throw new TypeError('bad transcript');
    });
    // Throwing something that is not an Error.
    const outA2 = outA.then(() =>
      b!.runtime.record(a, options, () => {
        throw 'not even an Error';
      }),
    );
    const outB = b.runtime.record(c, options, async (clip) => {
      let n = 0;
      for await (const chunk of clip.open()) n += (chunk as Buffer).length;
      return n;
    });
    await b.clock.advance(20 * MIN);
    expect(await outA).toMatchObject({
      final: 'deleted',
      outcome: 'processingFailed',
      error: { message: 'bad transcript' },
    });
    expect(await outA2).toMatchObject({
      final: 'deleted',
      outcome: 'processingFailed',
      error: { message: 'not even an Error' },
    });
    const b1 = await outB;
    expect(b1).toMatchObject({ final: 'deleted', outcome: 'processed', at: b.t0 + 4 * SEC });
    expect(b1.result).toBe(b1.bytes);
    for (const id of [a, c]) {
      expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
      expect(b.requests('keepAlive', id)).toEqual([[15 * MIN, 200]]);
    }
    expect(await b.store.list()).toEqual([]);
  });

  it("a 500 storm on call A's keepAlive: A ends at 45:00 while B's keepAlives stay on time", async () => {
    b = await bench();
    const a = b.call();
    const c = b.call();
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: a,
      count: 10_000,
      fault: { kind: 'status', status: 500 },
    });
    const endedA = b.runtime.whenEnded(a);
    const outB = b.runtime.record(c, options, () => 'fine');
    await b.clock.advance(2 * 60 * MIN);
    // Graph's keepAlive expiry (408/8537) reads expired.
    expect(await endedA).toMatchObject({ reason: 'expired', endedAt: b.t0 + 45 * MIN });
    expect(b.requests('keepAlive', a).every(([t, s]) => s === 500 && t < 45 * MIN)).toBe(true);
    expect(b.requests('keepAlive', c)).toEqual([15, 30, 45, 60, 75, 90, 105, 120].map((m) => [m * MIN, 200]));
    expect(await outB).toMatchObject({ final: 'deleted', outcome: 'processed', result: 'fine' });
    expect(b.runtime.get(c)?.getSnapshot().value).toEqual({ established: 'active' });
    expect(b.runtime.stats().tracked).toBe(1);
  });

  it("call A's recording host is down (download 503s) while B downloads fine", async () => {
    b = await bench();
    const a = b.call({ script });
    const c = b.call({ script });
    // The download of A's clip fails on every attempt; B's goes through.
    const recA = b.runtime.record(a, options, () => 'A');
    await b.clock.advance(3 * SEC);
    b.emulator.control.injectFault({
      route: 'download',
      callId: a,
      count: 100,
      fault: { kind: 'status', status: 503 },
    });
    const recB = b.runtime.record(c, options, () => 'B');
    await b.clock.advance(5 * MIN);
    const [outA, outB] = await Promise.all([recA, recB]);
    expect(outA).toMatchObject({ final: 'deleted', outcome: 'downloadFailed', error: { status: 503 } });
    expect(outB).toMatchObject({ final: 'deleted', outcome: 'processed', result: 'B', at: b.t0 + 7 * SEC });
    expect(b.emulator.control.requests({ route: 'download', callId: a }).every((r) => r.status === 503)).toBe(
      true,
    );
    expect(b.emulator.control.requests({ route: 'download', callId: c }).map((r) => r.status)).toEqual([200]);
    expect(await b.store.list()).toEqual([]);
  });

  it('an observer that throws (inspect) disturbs neither the call nor the runtime', async () => {
    b = await bench({
      runtime: {
        inspect: () => {
          throw new Error('observer bug');
        },
      },
    });
    const id = b.call({ script });
    const out = b.runtime.record(id, options, () => 'ok');
    await b.clock.advance(16 * MIN);
    expect(await out).toMatchObject({ final: 'deleted', outcome: 'processed' });
    expect(b.requests('keepAlive', id)).toEqual([[15 * MIN, 200]]);
  });
});
