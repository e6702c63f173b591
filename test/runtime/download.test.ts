/**
 * Recording downloads: the cap on downloads in flight (the slots alone, then
 * the whole runtime with a cap of 1 while recordings complete together, one
 * download delayed on the clock by the emulator), and whole-download retries
 * after the HTTP adapter's own attempts failed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BYTES_PER_SECOND, WAV_HEADER_BYTES } from '../../src/emulator/index.js';
import { createDownloadSlots } from '../../src/runtime/download.js';
import { type Bench, bench, SEC } from './helpers.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe('download slots', () => {
  it('runs at most max at once and starts the queued ones in arrival order', async () => {
    const slots = createDownloadSlots(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([slots.active, slots.queued]).toEqual([2, 2]);
    gates[1]!.open();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    gates[2]!.open();
    gates[3]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect([slots.active, slots.queued]).toEqual([0, 0]);
  });

  it('frees the slot when the work fails, and an aborted waiter leaves the queue without running', async () => {
    const slots = createDownloadSlots(1);
    const first = gate();
    const failing = slots.run(async () => {
      await first.opened;
      throw new Error('disk full');
    });
    const abort = new AbortController();
    let ranAborted = false;
    const aborted = slots.run(async () => {
      ranAborted = true;
    }, abort.signal);
    const third = slots.run(async () => 'third');
    expect(slots.queued).toBe(2);
    abort.abort(new Error('record stopped'));
    await expect(aborted).rejects.toThrow('record stopped');
    expect(slots.queued).toBe(1);
    first.open();
    await expect(failing).rejects.toThrow('disk full');
    expect(await third).toBe('third');
    expect(ranAborted).toBe(false);
    expect([slots.active, slots.queued]).toEqual([0, 0]);
  });

  it('rejects a cap below 1', () => {
    expect(() => createDownloadSlots(0)).toThrow(RangeError);
    expect(() => createDownloadSlots(Number.NaN)).toThrow(RangeError);
  });
});

describe('runtime with maxConcurrentDownloads: 1', () => {
  let b: Bench | undefined;
  afterEach(async () => {
    await b?.close();
    b = undefined;
  });

  it('downloads recordings that complete together one after another, without stalling the clock', async () => {
    b = await bench({ runtime: { maxConcurrentDownloads: 1 } });
    const seconds = [3, 4, 5];
    const ids = seconds.map((s) =>
      b!.call({ script: { caller: { kind: 'speak', seconds: s, thenTone: '#' } } }),
    );
    // The first download answers only after 2 simulated seconds: the others wait behind it.
    b.emulator.control.injectFault({ route: 'download', count: 1, fault: { kind: 'delay', ms: 2 * SEC } });
    const done = ids.map((id) =>
      b!.runtime.record(id, { stopTones: ['#'], maxRecordDurationInSeconds: 30 }, async (clip) => {
        let read = 0;
        for await (const chunk of clip.open()) read += (chunk as Buffer).length;
        return read;
      }),
    );
    await b.clock.advance(60 * SEC);
    const outs = await Promise.all(done);
    expect(outs.map((o) => [o.final, o.outcome])).toEqual(seconds.map(() => ['deleted', 'processed']));
    expect(outs.map((o) => o.result)).toEqual(seconds.map((s) => WAV_HEADER_BYTES + s * BYTES_PER_SECOND));
    const downloads = b.requests('download');
    expect(downloads).toHaveLength(3);
    // Completions at 4, 5 and 6 s; the first GET is held 2 s, so the second waits for its slot
    // until 6 s (uncapped it would go at 5 s), and the clips reach the store in completion order.
    expect(downloads).toEqual([
      [4 * SEC, 200],
      [6 * SEC, 200],
      [6 * SEC, 200],
    ]);
    const writes = b.storeOps
      .filter((op) => op.op === 'write')
      .map((op) => op.key.replace(/^.*-rec-/, 'rec-'));
    expect(writes).toEqual(['rec-1', 'rec-2', 'rec-3']);
    expect(await b.store.list()).toEqual([]);
    expect(b.runtime.stats().tokensHeld).toBe(0);
  });
});

describe('download retries', () => {
  let b: Bench | undefined;
  afterEach(async () => {
    await b?.close();
    b = undefined;
  });

  async function recordWithDownloadFaults(fault: Record<string, unknown>, count: number) {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 3, thenTone: '#' } } });
    b.emulator.control.injectFault({ route: 'download', count, fault: fault as never });
    const done = b.runtime.record(id, { stopTones: ['#'], maxRecordDurationInSeconds: 30 }, async (clip) => {
      let read = 0;
      for await (const chunk of clip.open()) read += (chunk as Buffer).length;
      return read;
    });
    await b.clock.advance(5 * 60 * SEC);
    return { out: await done, downloads: b.requests('download') };
  }

  it('downloads again after the adapter gave up on a failing host, and keeps nothing from the failures', async () => {
    const attempts = 4; // the adapter's own attempts per download
    const { out, downloads } = await recordWithDownloadFaults({ kind: 'status', status: 503 }, attempts);
    expect([out.final, out.outcome, out.result]).toEqual([
      'deleted',
      'processed',
      WAV_HEADER_BYTES + 3 * BYTES_PER_SECOND,
    ]);
    expect(downloads.map(([, status]) => status)).toEqual([503, 503, 503, 503, 200]);
    // The whole download came back DOWNLOAD_RETRY_DELAYS_MS[0] after the adapter's last try.
    expect(downloads[4]![0] - downloads[3]![0]).toBe(5 * SEC);
    expect(b!.storeOps.filter((op) => op.op === 'write')).toHaveLength(1);
    expect(await b!.store.list()).toEqual([]);
  });

  it('gives up after the last retry: downloadFailed, nothing left', async () => {
    const { out, downloads } = await recordWithDownloadFaults({ kind: 'status', status: 503 }, 100);
    expect([out.final, out.outcome]).toEqual(['deleted', 'downloadFailed']);
    // 4 adapter attempts for the first download and for each of the 3 retries.
    expect(downloads).toHaveLength(16);
    expect(await b!.store.list()).toEqual([]);
    expect(b!.runtime.stats().tokensHeld).toBe(0);
  });

  it('does not retry a 401: the token is wrong, another try cannot help', async () => {
    const { out, downloads } = await recordWithDownloadFaults({ kind: 'status', status: 401 }, 100);
    expect([out.final, out.outcome]).toEqual(['deleted', 'downloadFailed']);
    expect(downloads).toEqual([[expect.any(Number), 401]]);
  });
});
