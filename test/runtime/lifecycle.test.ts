/**
 * Edges of a call's life through the runtime: hanging up when Graph refuses,
 * records refused on an ending call, a record POST still in flight when the
 * call ends, queued records, and many calls at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/adapters/clock.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import type { RecordingStore } from '../../src/adapters/recording-store.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

describe('hang up', () => {
  it('DELETE answered 500 every time: hangUp() rejects, the call stays tracked and alive', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'hangUp',
      callId: id,
      count: 100,
      fault: { kind: 'status', status: 500 },
    });
    const hung = b.runtime.hangUp(id).then(
      (out) => ({ out }),
      (err: unknown) => ({ err }),
    );
    await b.clock.advance(MIN);
    const r = await hung;
    expect(r).toMatchObject({ err: { name: 'RuntimeError', code: 'hangUpFailed' } });
    expect(b.requests('hangUp', id).every(([, s]) => s === 500)).toBe(true);
    expect(b.eventsOf(id, 'call.hangUpFailed')).toMatchObject([{ status: 500 }]);
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    await b.clock.advance(15 * MIN);
    expect(b.requests('keepAlive', id)).toEqual([[15 * MIN, 200]]);
  });

  it('DELETE of a call that is already gone (404) still ends it hungUp', async () => {
    b = await bench();
    const id = b.call();
    await b.clock.advance(MIN);
    b.emulator.control.hangUpByCaller(id, { silent: true });
    const hung = b.runtime.hangUp(id);
    await b.clock.advance(MIN);
    expect(await hung).toEqual({ callId: id, reason: 'hungUp', endedAt: b.t0 + MIN });
    expect(b.requests('hangUp', id)).toEqual([[MIN, 404]]);
  });
});

describe('records and the end of the call', () => {
  it('a record on a draining call is refused; on an ended call the call is unknown', async () => {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
    const first = b.runtime.record(id, { stopTones: ['#'] }, async (clip) => {
      await clip.letTimeRun(sleep(b!.clock, 30 * SEC));
      return 'slow';
    });
    await b.clock.advance(10 * SEC);
    b.emulator.control.hangUpByCaller(id);
    await b.clock.advance(SEC);
    expect(b.runtime.get(id)?.getSnapshot().value).toBe('draining');
    await expect(b.runtime.record(id, {}, () => 1)).rejects.toMatchObject({
      name: 'RuntimeError',
      code: 'recordRejected',
    });
    await b.clock.advance(5 * MIN);
    expect(await first).toMatchObject({ final: 'deleted', outcome: 'processed', result: 'slow' });
    await expect(b.runtime.record(id, {}, () => 1)).rejects.toMatchObject({ code: 'unknownCall' });
    expect(b.requests('recordResponse', id)).toEqual([[0, 200]]);
  });

  it('a record POST still in flight when the call ends: requestFailed (404), the call ends after it', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'delay', ms: 10 * SEC },
    });
    const ended = b.runtime.whenEnded(id);
    const rec = b.runtime.record(id, {}, () => 1);
    await b.clock.advance(2 * SEC);
    b.emulator.control.hangUpByCaller(id);
    await b.clock.advance(MIN);
    expect(await ended).toEqual({
      callId: id,
      reason: 'terminated',
      endedAt: b.t0 + 2 * SEC,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    });
    expect(await rec).toMatchObject({ final: 'failed', outcome: 'requestFailed', error: { status: 404 } });
    expect(b.requests('recordResponse', id)).toEqual([[0, 404]]);
    expect(b.callStates(id).slice(-2)).toEqual([
      [2 * SEC, 'draining'],
      [10 * SEC, 'ended'],
    ]);
  });

  it('two records at once: Graph runs them one after the other, both processed', async () => {
    b = await bench();
    const id = b.call({
      script: {
        caller: [
          { kind: 'speak', seconds: 60 },
          { kind: 'speak', seconds: 3, thenTone: '#' },
        ],
      },
    });
    const long = b.runtime.record(id, { maxRecordDurationInSeconds: 60 }, () => 'long');
    // Requested at once with default timeouts, but queued behind a minute-long recording.
    const short = b.runtime.record(id, { stopTones: ['#'] }, () => 'short');
    await b.clock.advance(5 * MIN);
    const [a, c] = await Promise.all([long, short]);
    expect(a).toMatchObject({ final: 'deleted', outcome: 'processed', at: b.t0 + 61 * SEC });
    // The second starts when the first ends (61 s): beep, 3 s, '#'.
    expect(c).toMatchObject({ final: 'deleted', outcome: 'processed', at: b.t0 + 65 * SEC, result: 'short' });
    expect(b.runtime.stats()).toMatchObject({ unmatchedOperation: 0 });
    expect(await b.store.list()).toEqual([]);
  });
});

describe('many calls', () => {
  it('20 calls for 6 hours: every keepAlive on time, every clip processed once, nothing left', async () => {
    b = await bench();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(b.call({ script: { caller: { kind: 'speak', seconds: 1 + (i % 5), thenTone: '#' } } }));
      await b.clock.advance(7 * SEC);
    }
    const handled = new Map<string, number>();
    const recs = ids.map((id) =>
      b!.runtime.record(id, { stopTones: ['#'] }, (clip) => {
        handled.set(clip.callId, (handled.get(clip.callId) ?? 0) + 1);
        return clip.bytes;
      }),
    );
    const wall = performance.now();
    await b.clock.advance(6 * 60 * MIN);
    console.log(`20 calls x 6 h: ${Math.round(performance.now() - wall)} ms of wall time`);
    const outs = await Promise.all(recs);
    expect(outs.every((o) => o.final === 'deleted' && o.outcome === 'processed')).toBe(true);
    expect([...handled.values()]).toEqual(ids.map(() => 1));
    ids.forEach((id, i) => {
      const start = i * 7 * SEC;
      expect(b!.requests('keepAlive', id)).toEqual(
        Array.from({ length: 24 }, (_, k) => [start + (k + 1) * 15 * MIN, 200]).filter(
          ([t]) => (t as number) <= 20 * 7 * SEC + 6 * 60 * MIN,
        ),
      );
    });
    expect(await b.store.list()).toEqual([]);
    expect(b.runtime.stats()).toMatchObject({ tracked: 20, tokensHeld: 0, unmatchedOperation: 0 });
  });
});

describe('bookkeeping', () => {
  it('a clientContext still in use by a running record of the call is refused', async () => {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 3, thenTone: '#' } } });
    const first = b.runtime.record(id, { stopTones: ['#'], clientContext: 'greeting' }, () => 1);
    await expect(b.runtime.record(id, { clientContext: 'greeting' }, () => 2)).rejects.toMatchObject({
      name: 'RuntimeError',
      code: 'recordRejected',
    });
    await b.clock.advance(MIN);
    expect(await first).toMatchObject({ final: 'deleted', outcome: 'processed' });
    // Once that record is over, the clientContext may be used again.
    const again = b.runtime.record(id, { stopTones: ['#'], clientContext: 'greeting' }, () => 3);
    await b.clock.advance(MIN);
    expect(await again).toMatchObject({ final: 'deleted', outcome: 'processed', result: 3 });
    expect(b.requests('recordResponse', id)).toEqual([
      [0, 200],
      [MIN, 200],
    ]);
  });

  it('a store whose delete fails twice: retried with backoff until the clip is gone', async () => {
    const inner = createMemoryRecordingStore();
    let failures = 2;
    const store: RecordingStore = {
      write: (key, body, signal) => inner.write(key, body, signal),
      open: (key) => inner.open(key),
      list: () => inner.list(),
      close: () => inner.close(),
      async delete(key) {
        if (failures-- > 0) throw new Error('EBUSY: resource busy');
        await inner.delete(key);
      },
    };
    b = await bench({ store });
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 3, thenTone: '#' } } });
    const rec = b.runtime.record(id, { stopTones: ['#'] }, () => 'ok');
    await b.clock.advance(MIN);
    // Processed at 4 s; deletes fail at 4 s and 9 s (5-s wait), succeed at 19 s (10-s wait).
    expect(await rec).toMatchObject({
      final: 'deleted',
      outcome: 'processed',
      result: 'ok',
      at: b.t0 + 19 * SEC,
    });
    expect(b.eventsOf(id, 'record.deleteFailed').map((e) => b!.rel(e.at))).toEqual([4 * SEC, 9 * SEC]);
    expect(b.eventsOf(id, 'record.deleted').map((e) => b!.rel(e.at))).toEqual([19 * SEC]);
    expect(await inner.list()).toEqual([]);
  });

  it('notifications of calls the runtime does not track are answered 202, counted and ignored', async () => {
    b = await bench();
    const stranger = b.emulator.createCall({ callbackUri: b.callbackUri });
    const mine = b.call();
    b.emulator.control.hangUpByCaller(stranger.id);
    await b.clock.advance(MIN);
    expect(b.emulator.control.notifications({ callId: stranger.id }).map((n) => n.httpStatus)).toEqual([
      202, 202,
    ]);
    expect(b.runtime.stats()).toMatchObject({ tracked: 1, unknownCall: 2, routed: 0 });
    expect(b.runtime.get(mine)?.getSnapshot().value).toEqual({ established: 'active' });
  });

  it('no timer is left on the clock once every call has ended', async () => {
    b = await bench();
    const a = b.call();
    const c = b.call({ script: { caller: { kind: 'speak', seconds: 3, thenTone: '#' } } });
    const rec = b.runtime.record(c, { stopTones: ['#'] }, () => 1);
    await b.clock.advance(MIN);
    await rec;
    b.emulator.control.hangUpByCaller(a, { silent: true });
    b.emulator.control.hangUpByCaller(c);
    await b.clock.advance(20 * MIN);
    expect(b.runtime.stats()).toMatchObject({ tracked: 0, tokensHeld: 0 });
    expect(b.clock.pendingTimers).toBe(0);
  });
});

describe('more endings', () => {
  it('the bot hangs up mid-recording: what was said is still downloaded, processed and deleted', async () => {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 60 } } });
    const rec = b.runtime.record(
      id,
      { maxRecordDurationInSeconds: 120, maxSilenceTimeoutInSeconds: 10 },
      (clip) => Math.round(clip.wav?.durationSeconds ?? -1),
    );
    await b.clock.advance(11 * SEC);
    const hung = b.runtime.hangUp(id);
    await b.clock.advance(MIN);
    expect(await hung).toEqual({ callId: id, reason: 'hungUp', endedAt: b.t0 + 11 * SEC });
    // Beep 1 s, then 10 s of speech before the DELETE.
    expect(await rec).toMatchObject({
      final: 'deleted',
      outcome: 'processed',
      result: 10,
      completionReason: 'none',
    });
    expect(b.requests('download')).toEqual([[11 * SEC, 200]]);
    expect(await b.store.list()).toEqual([]);
  });

  it('cancelMediaProcessing whose cancellation notice overtakes its answer', async () => {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 60 } } });
    b.emulator.control.injectFault({
      route: 'cancelMediaProcessing',
      count: 1,
      fault: { kind: 'notification', mode: 'early' },
    });
    const rec = b.runtime.record(id, { maxRecordDurationInSeconds: 120 }, () => 'never');
    await b.clock.advance(5 * SEC);
    b.runtime.cancelMedia(id);
    await b.clock.advance(MIN);
    expect(await rec).toMatchObject({
      final: 'failed',
      completionReason: 'operationCanceled',
      at: b.t0 + 5 * SEC,
    });
    expect(b.requests('cancelMediaProcessing', id)).toEqual([[5 * SEC, 200]]);
    expect(b.eventsOf(id, 'call.cancelMediaFailed')).toEqual([]);
  });

  it('a call tracked under another spelling of its id (upper case, no dashes)', async () => {
    b = await bench();
    const info = b.emulator.createCall({
      callbackUri: b.callbackUri,
      script: { caller: { kind: 'hangUp', afterSeconds: 3, mode: 'complete' } },
    });
    const spelled = info.id.replace(/-/g, '').toUpperCase();
    b.runtime.track(spelled);
    const ended = b.runtime.whenEnded(info.id);
    const rec = b.runtime.record(spelled, {}, () => 'heard');
    await b.clock.advance(MIN);
    expect(await rec).toMatchObject({ final: 'deleted', outcome: 'processed', result: 'heard' });
    expect(await ended).toMatchObject({ reason: 'terminated', endedAt: b.t0 + 4 * SEC });
    expect(b.requests('recordResponse', info.id)).toEqual([[0, 200]]);
  });
});
