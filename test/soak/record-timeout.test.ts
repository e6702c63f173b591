/**
 * Found by the soak: a record POST that gets no answer in time (the adapter's
 * 30 s timeout) may still have started the operation on Graph's side. Its
 * completion, found by clientContext, must still be downloaded and deleted;
 * when none comes, the record fails as before (requestFailed, the timeout kept).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../src/testing/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SEC = 1000;
const options = {
  stopTones: ['#' as const],
  maxRecordDurationInSeconds: 20,
  initialSilenceTimeoutInSeconds: 5,
};

describe('a record POST that times out', () => {
  it('still downloads and deletes the recording Graph made (completion matched by clientContext)', async () => {
    h = await createHarness();
    const id = h.call({ script: { caller: { kind: 'speak', seconds: 4, thenTone: '#' } } });
    // Graph takes 35 s to take the request: the bot gives up at 30 s, then the operation runs.
    h.emulator.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'delay', ms: 35 * SEC },
    });
    let heard = 0;
    const done = h.runtime.record(id, options, async (clip) => {
      for await (const chunk of clip.open()) heard += (chunk as Buffer).length;
      return heard;
    });
    await h.clock.advance(3 * 60 * SEC);
    const out = await done;
    const rec = h.emulator.control.call(id)?.recordings ?? [];
    expect(rec).toHaveLength(1);
    expect(rec[0]?.downloads).toBe(1);
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed', result: rec[0]?.bytes });
    expect(out.operationId?.replace(/-/g, '')).toBe(rec[0]?.operationId.replace(/-/g, ''));
    expect(out.error).toBeUndefined();
    expect(heard).toBe(rec[0]?.bytes);
    expect(await h.store.list()).toEqual([]);
    expect(h.runtime.stats().tokensHeld).toBe(0);
  });

  it('fails as requestFailed (timeout kept) when no completion comes', async () => {
    h = await createHarness();
    const id = h.call({ script: { caller: { kind: 'speak', seconds: 4, thenTone: '#' } } });
    // The request never reaches Graph: held past the timeout, then the connection drops.
    h.emulator.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'delay', ms: 35 * SEC },
    });
    h.emulator.control.injectFault({ route: 'recordResponse', count: 1, fault: { kind: 'reset' } });
    const done = h.runtime.record(id, options, () => undefined);
    await h.clock.advance(5 * 60 * SEC);
    expect(await done).toMatchObject({
      final: 'failed',
      outcome: 'requestFailed',
      error: { kind: 'timeout' },
    });
    expect(h.emulator.control.call(id)?.recordings).toEqual([]);
    expect(h.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  });
});
