/**
 * runtime.stop() in the middle of things: nothing stays in the store, no
 * timer stays on the clock, no token stays in the vault.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import type { RecordingStore } from '../../src/adapters/recording-store.js';
import type { RecordOptionsInput } from '../../src/graph/schemas.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const script = { caller: { kind: 'speak' as const, seconds: 3, thenTone: '#' as const } };
const options: RecordOptionsInput = { stopTones: ['#'], maxRecordDurationInSeconds: 30 };

describe('runtime.stop()', () => {
  it('with a download held open by the recording host: store empty, no timer left', async () => {
    b = await bench();
    const id = b.call({ script });
    // The GET is answered 20 s after it arrives (inside the 30-s request timeout).
    b.emulator.control.injectFault({ route: 'download', count: 1, fault: { kind: 'delay', ms: 20 * SEC } });
    const done = b.runtime.record(id, options, () => 'never');
    await b.clock.advance(10 * SEC);
    expect(b.runtime.get(id)?.getSnapshot().children).toHaveProperty('rec-1');
    const rec = b.recordStates(id, 'rec-1');
    expect(rec.at(-1)).toEqual([4 * SEC, 'holdingClip.downloading']);
    await b.runtime.stop();
    const out = await done;
    expect(out).toMatchObject({ final: 'deleted', outcome: 'callEnded', error: { kind: 'stopped' } });
    expect(await b.store.list()).toEqual([]);
    expect(b.runtime.stats()).toMatchObject({ tracked: 0, tokensHeld: 0 });
    await b.close();
    expect(b.clock.pendingTimers).toBe(0);
    expect(b.clock.inFlight).toBe(0);
    b = undefined;
  });

  it('with a clip half written to the store: the write is aborted, nothing is kept, no timer left', async () => {
    const inner = createMemoryRecordingStore();
    const writes: string[] = [];
    let clock: Bench['clock'] | undefined;
    // A store whose disk is slow: after the first chunk it waits (on the clock) until aborted.
    const slow: RecordingStore = {
      write(key, body, signal) {
        writes.push(key);
        async function* firstChunkThenStall() {
          for await (const chunk of body) {
            yield chunk as Uint8Array;
            const release = clock?.park();
            try {
              await new Promise<void>((_, reject) => {
                if (signal?.aborted) reject(signal.reason);
                signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
              });
            } finally {
              release?.();
            }
          }
        }
        return inner.write(key, firstChunkThenStall(), signal);
      },
      open: (key) => inner.open(key),
      delete: (key) => inner.delete(key),
      list: () => inner.list(),
      close: () => inner.close(),
    };
    b = await bench({ store: slow });
    clock = b.clock;
    const id = b.call({ script });
    const done = b.runtime.record(id, options, () => 'never');
    await b.clock.advance(MIN);
    expect(writes).toHaveLength(1);
    expect(b.recordStates(id, 'rec-1').at(-1)).toEqual([4 * SEC, 'holdingClip.downloading']);
    await b.runtime.stop();
    expect(await done).toMatchObject({ final: 'deleted', outcome: 'callEnded' });
    expect(await inner.list()).toEqual([]);
    expect(inner.bytesHeld).toBe(0);
    await b.close();
    expect(b.clock.pendingTimers).toBe(0);
    expect(b.clock.inFlight).toBe(0);
    b = undefined;
  });

  it('with a handler mid-processing: the clip is deleted, the handler aborted, no timer left', async () => {
    b = await bench();
    const id = b.call({ script });
    let aborted = false;
    const done = b.runtime.record(id, options, async (clip, signal) => {
      signal.addEventListener('abort', () => {
        aborted = true;
      });
      await clip.letTimeRun(new Promise(() => {}));
    });
    await b.clock.advance(10 * SEC);
    expect(b.storeOps.map((o) => o.op)).toEqual(['write']);
    await b.runtime.stop();
    expect(aborted).toBe(true);
    expect(await done).toMatchObject({ final: 'deleted', outcome: 'callEnded' });
    expect(await b.store.list()).toEqual([]);
    expect(b.storeOps.map((o) => o.op)).toEqual(['write', 'delete']);
    await b.close();
    expect(b.clock.pendingTimers).toBe(0);
    expect(b.clock.inFlight).toBe(0);
    b = undefined;
  });

  it('after a long day of calls, closing leaves no timer on the shared clock', async () => {
    b = await bench();
    const ids = [b.call({ script }), b.call({ script }), b.call()];
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: ids[2],
      count: 3,
      fault: { kind: 'status', status: 429, retryAfter: '7' },
    });
    const recs = ids.slice(0, 2).map((id) => b!.runtime.record(id, options, () => 1));
    await b.clock.advance(6 * 60 * MIN);
    await Promise.all(recs);
    expect(b.clock.pendingTimers).toBeGreaterThan(0);
    await b.close();
    expect(b.clock.pendingTimers).toBe(0);
    b = undefined;
  });

  it('refuses new work once stopped, with typed errors (rejections for the promise API)', async () => {
    b = await bench();
    const id = b.call();
    const stranger = '0b7c2f5e-8a8a-4c3e-9a57-2b0c8f1d9e11';
    // Before stop: an unknown call is a rejection, never a synchronous throw.
    const unknown = { name: 'RuntimeError', code: 'unknownCall' };
    await expect(b.runtime.hangUp(stranger)).rejects.toMatchObject(unknown);
    await expect(b.runtime.whenEnded(stranger)).rejects.toMatchObject(unknown);
    await expect(b.runtime.record(stranger, {}, () => 1)).rejects.toMatchObject(unknown);
    expect(() => b!.runtime.cancelMedia(stranger)).toThrow(expect.objectContaining(unknown));
    const ended = b.runtime.whenEnded(id);
    await b.runtime.stop();
    // A call stopped by stop() did not end: whoever waited for its end hears so.
    await expect(ended).rejects.toMatchObject({ name: 'RuntimeError', code: 'stopped' });
    const stoppedErr = { name: 'RuntimeError', code: 'stopped' };
    expect(() => b!.runtime.track(id)).toThrow(expect.objectContaining(stoppedErr));
    await expect(b.runtime.record(id, {}, () => 1)).rejects.toMatchObject(stoppedErr);
    await expect(b.runtime.hangUp(id)).rejects.toMatchObject(stoppedErr);
    expect(b.requests('hangUp')).toEqual([]);
  });
});
