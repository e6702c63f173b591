/**
 * A call that ends while it holds recordings: 404 (the caller vanished
 * without a word), and the drain that lets each recording finish, or stops it
 * at the drain timeout, always deleting what was stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/adapters/clock.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

describe('404 ends the call and its recordings are deleted', () => {
  it('a clip in processing when the caller silently vanishes: drains, then deleted, store empty', async () => {
    b = await bench({ runtime: { recordPolicy: { processingTimeoutMs: 30 * MIN } } });
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 4, thenTone: '#' } } });
    const ended = b.runtime.whenEnded(id);
    let processedAt: number | undefined;
    const done = b.runtime.record(id, { stopTones: ['#'], maxRecordDurationInSeconds: 30 }, async (clip) => {
      // A slow transcription: 20 minutes on the clock.
      await clip.letTimeRun(sleep(b!.clock, 20 * MIN));
      processedAt = b!.rel(b!.clock.now());
      return 'transcript';
    });
    await b.clock.advance(10 * MIN);
    expect(b.emulator.control.hangUpByCaller(id, { silent: true })).toBe(true);
    await b.clock.advance(20 * MIN);
    const [out, call] = await Promise.all([done, ended]);

    // The emulator said nothing; the keepAlive at 15:00 learnt the call was gone.
    expect(b.emulator.control.notifications({ callId: id }).filter((n) => n.resource === 'call')).toEqual([]);
    expect(b.requests('keepAlive', id)).toEqual([[15 * MIN, 404]]);
    expect(call).toEqual({ callId: id, reason: 'notFound', endedAt: b.t0 + 15 * MIN });
    // The record finished its work during the drain, then the call ended.
    expect(processedAt).toBe(5 * SEC + 20 * MIN);
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed', result: 'transcript' });
    expect(b.callStates(id)).toEqual([
      [0, 'established.active'],
      [15 * MIN, 'established.keepAliveDue'],
      [15 * MIN, 'draining'],
      [5 * SEC + 20 * MIN, 'ended'],
    ]);
    expect(b.storeOps.map((o) => [o.op, o.at])).toEqual([
      ['write', 5 * SEC],
      ['delete', 5 * SEC + 20 * MIN],
    ]);
    expect(await b.store.list()).toEqual([]);
    // Nothing was sent after the 404.
    expect(b.emulator.control.requests({ callId: id }).filter((r) => b!.rel(r.at) > 15 * MIN)).toEqual([]);
    expect(b.runtime.stats()).toMatchObject({ tracked: 0, tokensHeld: 0 });
  });

  it('a handler still busy at the drain timeout: the record is stopped, its guard deletes the clip', async () => {
    b = await bench({ runtime: { recordPolicy: { processingTimeoutMs: 60 * MIN } } });
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 4, thenTone: '#' } } });
    let abortedAt: number | undefined;
    const done = b.runtime.record(
      id,
      { stopTones: ['#'], maxRecordDurationInSeconds: 30 },
      async (clip, signal) => {
        signal.addEventListener('abort', () => {
          abortedAt = b!.rel(b!.clock.now());
        });
        // Never finishes, and ignores its signal.
        await clip.letTimeRun(new Promise(() => {}));
      },
    );
    await b.clock.advance(MIN);
    b.emulator.control.hangUpByCaller(id, { silent: true });
    const ended = b.runtime.whenEnded(id);
    await b.clock.advance(60 * MIN);
    const out = await done;
    expect(await ended).toEqual({ callId: id, reason: 'notFound', endedAt: b.t0 + 15 * MIN });
    // Drain timeout: 10 minutes after the end.
    expect(b.callStates(id).slice(-2)).toEqual([
      [15 * MIN, 'draining'],
      [25 * MIN, 'ended'],
    ]);
    expect(abortedAt).toBe(25 * MIN);
    expect(out).toMatchObject({
      final: 'deleted',
      outcome: 'callEnded',
      bytes: expect.any(Number),
      error: { kind: 'stopped' },
    });
    expect(b.storeOps.map((o) => [o.op, o.at])).toEqual([
      ['write', 5 * SEC],
      ['delete', 25 * MIN],
    ]);
    expect(await b.store.list()).toEqual([]);
    // The abandoned handler holds no simulated time: the clock still runs keepAlive-free to the end.
    expect(b.clock.inFlight).toBe(0);
  });

  it("a record still waiting for its completion when the 404 comes: failed 'callEnded' after the grace", async () => {
    b = await bench();
    // The caller vanishes mid-recording and Graph never reports the record (comms-samples #376).
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 300 }, onCallEnd: 'silent' } });
    await b.clock.advance(14 * MIN);
    const done = b.runtime.record(id, { maxRecordDurationInSeconds: 300 }, () => 'never');
    await b.clock.advance(30 * SEC);
    b.emulator.control.hangUpByCaller(id, { silent: true });
    const ended = b.runtime.whenEnded(id);
    await b.clock.advance(10 * MIN);
    const out = await done;
    expect(await ended).toEqual({ callId: id, reason: 'notFound', endedAt: b.t0 + 15 * MIN });
    expect(out).toMatchObject({ final: 'failed', outcome: 'callEnded', at: b.t0 + 15 * MIN + 10 * SEC });
    expect(b.callStates(id).slice(-2)).toEqual([
      [15 * MIN, 'draining'],
      [15 * MIN + 10 * SEC, 'ended'],
    ]);
    expect(b.requests('download')).toEqual([]);
    expect(b.storeOps).toEqual([]);
  });

  it('hanging up with a clip in processing: DELETE 204, the clip finishes and is deleted', async () => {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
    const done = b.runtime.record(id, { stopTones: ['#'] }, async (clip) => {
      await clip.letTimeRun(sleep(b!.clock, 30 * SEC));
      return clip.bytes;
    });
    await b.clock.advance(5 * SEC);
    const hung = b.runtime.hangUp(id);
    await b.clock.advance(MIN);
    // Graph's "ended by bot" (200/7000) comes while the clip is processing: it goes in the output.
    expect(await hung).toEqual({
      callId: id,
      reason: 'hungUp',
      endedAt: b.t0 + 5 * SEC,
      resultInfo: { code: 200, subcode: 7000, message: 'The conversation has ended by bot.' },
    });
    expect(await done).toMatchObject({ final: 'deleted', outcome: 'processed' });
    expect(b.requests('hangUp', id)).toEqual([[5 * SEC, 204]]);
    expect(b.callStates(id).slice(-3)).toEqual([
      [5 * SEC, 'terminating'],
      [5 * SEC, 'draining'],
      [33 * SEC, 'ended'],
    ]);
    expect(await b.store.list()).toEqual([]);
  });
});
