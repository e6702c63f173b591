/**
 * Every way a recording can end, through the whole runtime: the emulator's
 * scripted caller decides the completion, the bot downloads, processes and
 * deletes, and nothing is left in the store. Run on /v1.0 (recordResponse)
 * and /beta (record).
 */
import { readdir, stat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/adapters/clock.js';
import { createFileRecordingStore } from '../../src/adapters/file-store.js';
import type { CallerScript } from '../../src/emulator/index.js';
import { BYTES_PER_SECOND, WAV_HEADER_BYTES } from '../../src/emulator/index.js';
import { GraphError } from '../../src/graph/errors.js';
import type { RecordOptionsInput } from '../../src/graph/schemas.js';
import type { Clip } from '../../src/runtime/clip.js';
import type { RecordResult } from '../../src/runtime.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const wavBytes = (seconds: number) => WAV_HEADER_BYTES + seconds * BYTES_PER_SECOND;

interface Seen {
  calls: number;
  clip?: Omit<Clip, 'open'> & { read: number };
  at?: number;
  aborted?: number;
}

/** A handler that reads the whole clip and remembers what it saw. */
function reader(b: Bench, seen: Seen) {
  return async (clip: Clip) => {
    seen.calls++;
    seen.at = b.rel(b.clock.now());
    let read = 0;
    for await (const chunk of clip.open()) read += (chunk as Buffer).length;
    const { open: _open, ...rest } = clip;
    seen.clip = { ...rest, read };
    return { heard: read };
  };
}

for (const version of ['v1.0', 'beta'] as const) {
  const route = version === 'beta' ? 'record' : 'recordResponse';

  describe(`record flow on ${version} (${route})`, () => {
    async function start(
      script: CallerScript,
      options: RecordOptionsInput,
      handler?: (clip: Clip, signal: AbortSignal) => unknown,
    ) {
      b = await bench({ beta: version === 'beta' });
      const id = b.call({ script });
      const seen: Seen = { calls: 0 };
      const done = b.runtime.record(id, options, handler ?? reader(b, seen));
      return { b, id, seen, done };
    }

    /** The record went request -> recording -> download -> process -> delete at `at`, leaving nothing. */
    async function expectProcessedAndDeleted(
      b: Bench,
      id: string,
      out: RecordResult,
      seen: Seen,
      at: number,
      seconds: number,
    ) {
      expect(out).toMatchObject({
        final: 'deleted',
        outcome: 'processed',
        bytes: wavBytes(seconds),
        at: b.t0 + at,
      });
      expect(out.result).toEqual({ heard: wavBytes(seconds) });
      expect(seen.calls).toBe(1);
      expect(seen.at).toBe(at);
      expect(seen.clip).toMatchObject({ callId: id, bytes: wavBytes(seconds), read: wavBytes(seconds) });
      expect(seen.clip?.wav).toMatchObject({
        sampleRate: 16_000,
        channels: 1,
        bitsPerSample: 16,
        durationSeconds: seconds,
      });
      expect(b.requests(route, id)).toEqual([[0, 200]]);
      expect(b.requests('download')).toEqual([[at, 200]]);
      expect(b.recordStates(id, out.recordId)).toEqual([
        [0, 'requesting'],
        [0, 'recording'],
        [at, 'holdingClip.downloading'],
        [at, 'holdingClip.processing.running'],
        [at, 'holdingClip.deleting.trying'],
        [at, 'deleted'],
      ]);
      expect(b.storeOps).toEqual([
        { op: 'write', key: expect.any(String), at, bytes: wavBytes(seconds) },
        { op: 'delete', key: b.storeOps[0]?.key, at },
      ]);
      expect(await b.store.list()).toEqual([]);
      expect(b.runtime.stats().tokensHeld).toBe(0);
    }

    it('stopToneDetected: completed -> downloaded -> processed -> deleted', async () => {
      const { b, id, seen, done } = await start(
        { caller: { kind: 'speak', seconds: 4, thenTone: '#' } },
        { stopTones: ['#'], maxRecordDurationInSeconds: 30 },
      );
      await b.clock.advance(MIN);
      const out = await done;
      // Beep 1 s + 4 s of speech, then '#'.
      expect(out).toMatchObject({ completionReason: 'stopToneDetected', resultInfo: { code: 200 } });
      await expectProcessedAndDeleted(b, id, out, seen, 5 * SEC, 4);
      expect(seen.clip?.completionReason).toBe('stopToneDetected');
      expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    });

    it('maxRecordDurationReached (200/8515)', async () => {
      const { b, id, seen, done } = await start(
        { caller: { kind: 'speak', seconds: 20 } },
        { maxRecordDurationInSeconds: 10, maxSilenceTimeoutInSeconds: 5 },
      );
      await b.clock.advance(MIN);
      const out = await done;
      expect(out).toMatchObject({
        completionReason: 'maxRecordDurationReached',
        resultInfo: { code: 200, subcode: 8515 },
      });
      await expectProcessedAndDeleted(b, id, out, seen, 11 * SEC, 10);
    });

    it('maxSilenceTimeout', async () => {
      const { b, id, seen, done } = await start(
        { caller: { kind: 'speak', seconds: 3 } },
        { maxRecordDurationInSeconds: 30, maxSilenceTimeoutInSeconds: 2 },
      );
      await b.clock.advance(MIN);
      const out = await done;
      expect(out).toMatchObject({ completionReason: 'maxSilenceTimeout' });
      await expectProcessedAndDeleted(b, id, out, seen, 6 * SEC, 3);
    });

    it('initialSilenceTimeout: failed, operationFailed, nothing downloaded', async () => {
      const { b, id, seen, done } = await start(
        { caller: { kind: 'silent' } },
        { initialSilenceTimeoutInSeconds: 4, maxRecordDurationInSeconds: 30 },
      );
      await b.clock.advance(MIN);
      const out = await done;
      expect(out).toMatchObject({
        final: 'failed',
        outcome: 'operationFailed',
        completionReason: 'initialSilenceTimeout',
        resultInfo: { code: 408 },
        at: b.t0 + 5 * SEC,
      });
      expect(out.bytes).toBeUndefined();
      expect(seen.calls).toBe(0);
      expect(b.requests('download')).toEqual([]);
      expect(b.recordStates(id, out.recordId)).toEqual([
        [0, 'requesting'],
        [0, 'recording'],
        [5 * SEC, 'failed'],
      ]);
      expect(b.storeOps).toEqual([]);
    });

    it("the caller hangs up mid-recording, mode 'complete': the clip is processed, the call ends terminated", async () => {
      const { b, id, seen, done } = await start(
        { caller: { kind: 'hangUp', afterSeconds: 4, mode: 'complete' } },
        { maxRecordDurationInSeconds: 30 },
      );
      const ended = b.runtime.whenEnded(id);
      await b.clock.advance(MIN);
      const out = await done;
      expect(out).toMatchObject({ completionReason: 'none' });
      await expectProcessedAndDeleted(b, id, out, seen, 5 * SEC, 4);
      expect(await ended).toEqual({
        callId: id,
        reason: 'terminated',
        endedAt: b.t0 + 5 * SEC,
        resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
      });
      expect(
        b.emulator.control
          .notifications({ callId: id })
          .map((n) => [b.rel(n.at), n.changeType, n.resource, n.state]),
      ).toEqual([
        [5 * SEC, 'deleted', 'operation', 'completed'],
        [5 * SEC, 'updated', 'call', 'terminating'],
        [5 * SEC, 'deleted', 'call', 'terminated'],
      ]);
    });

    it("the caller hangs up mid-recording, mode 'silent': no completion; failed 'callEnded' after the grace", async () => {
      const { b, id, seen, done } = await start(
        { caller: { kind: 'hangUp', afterSeconds: 4, mode: 'silent' } },
        { maxRecordDurationInSeconds: 30 },
      );
      const ended = b.runtime.whenEnded(id);
      await b.clock.advance(MIN);
      const out = await done;
      // The call's end (terminated notification at 5 s) starts the 10-s grace; the completion
      // deadline (1 + 5 + 30 + 5 s + 30 s margin = 71 s) is later, so the grace decides.
      expect(out).toMatchObject({ final: 'failed', outcome: 'callEnded', at: b.t0 + 15 * SEC });
      expect(seen.calls).toBe(0);
      expect(b.requests('download')).toEqual([]);
      expect(await ended).toEqual({
        callId: id,
        reason: 'terminated',
        endedAt: b.t0 + 5 * SEC,
        resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
      });
      // The call drained until its record finished.
      expect(b.callStates(id)).toEqual([
        [0, 'established.active'],
        [5 * SEC, 'draining'],
        [15 * SEC, 'ended'],
      ]);
      expect(b.recordStates(id, out.recordId)).toEqual([
        [0, 'requesting'],
        [0, 'recording'],
        [15 * SEC, 'failed'],
      ]);
      expect(b.emulator.control.notifications({ callId: id }).map((n) => n.resource)).toEqual([
        'call',
        'call',
      ]);
      expect(b.storeOps).toEqual([]);
    });

    it('no completion and no call end: failed completionTimeout at the local deadline', async () => {
      const { b, id, done } = await start(
        { caller: { kind: 'speak', seconds: 3 } },
        { maxRecordDurationInSeconds: 30, playBeep: false },
      );
      b.emulator.control.injectFault({
        callId: id,
        resource: 'operation',
        count: 1,
        fault: { kind: 'notification', mode: 'drop' },
      });
      await b.clock.advance(2 * MIN);
      const out = await done;
      // No beep: 5 s initial silence + 30 s + 5 s max silence + 30 s margin.
      expect(out).toMatchObject({ final: 'failed', outcome: 'completionTimeout', at: b.t0 + 70 * SEC });
      expect(b.requests('download')).toEqual([]);
      expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    });

    it('cancelMediaProcessing: failed operationCanceled (400/8508)', async () => {
      const { b, id, seen, done } = await start(
        { caller: { kind: 'speak', seconds: 20 } },
        { maxRecordDurationInSeconds: 30 },
      );
      await b.clock.advance(3 * SEC);
      b.runtime.cancelMedia(id);
      await b.clock.advance(MIN);
      const out = await done;
      expect(out).toMatchObject({
        final: 'failed',
        outcome: 'operationFailed',
        completionReason: 'operationCanceled',
        resultInfo: { code: 400, subcode: 8508 },
        at: b.t0 + 3 * SEC,
      });
      expect(seen.calls).toBe(0);
      expect(b.requests('cancelMediaProcessing', id)).toEqual([[3 * SEC, 200]]);
      expect(b.requests('download')).toEqual([]);
      expect(b.storeOps).toEqual([]);
      expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    });

    it('the handler throws: the clip is deleted, outcome processingFailed', async () => {
      const { b, id, done } = await start({}, {}, () => {
        throw new Error('transcriber exploded');
      });
      await b.clock.advance(MIN);
      const out = await done;
      // Default caller (3 s of speech) and options (5-s maximum): ends 1 s beep + 5 s in.
      expect(out).toMatchObject({
        final: 'deleted',
        outcome: 'processingFailed',
        completionReason: 'maxRecordDurationReached',
        bytes: wavBytes(3),
        error: { message: 'transcriber exploded' },
        at: b.t0 + 6 * SEC,
      });
      expect(out.result).toBeUndefined();
      expect(b.storeOps.map((o) => [o.op, o.at])).toEqual([
        ['write', 6 * SEC],
        ['delete', 6 * SEC],
      ]);
      expect(await b.store.list()).toEqual([]);
      expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    });

    it('the handler is too slow: aborted at the processing timeout, the clip deleted', async () => {
      let aborted: number | undefined;
      const { b, id, done } = await start({}, {}, async (clip, signal) => {
        signal.addEventListener('abort', () => {
          aborted = b!.rel(b!.clock.now());
        });
        // Waits on the clock (say, a slow transcription queue): clip.letTimeRun lets simulated time move.
        await clip.letTimeRun(sleep(b!.clock, 5 * MIN, signal));
        return 'never';
      });
      await b.clock.advance(10 * MIN);
      const out = await done;
      // Downloaded at 6 s; the default processing timeout is 60 s.
      expect(out).toMatchObject({ final: 'deleted', outcome: 'processingTimeout', at: b.t0 + 66 * SEC });
      expect(out.result).toBeUndefined();
      expect(aborted).toBe(66 * SEC);
      expect(b.storeOps.map((o) => [o.op, o.at])).toEqual([
        ['write', 6 * SEC],
        ['delete', 66 * SEC],
      ]);
      expect(await b.store.list()).toEqual([]);
      expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    });

    it('download 404 after the retention period: downloadFailed, nothing left', async () => {
      b = await bench({ beta: version === 'beta', emulator: { recordingRetentionMs: 1_000 } });
      const id = b.call({ script: { caller: { kind: 'hangUp', afterSeconds: 4, mode: 'complete' } } });
      // The recording host is slow: the GET is handled 2 s after it arrived, 1 s past retention.
      b.emulator.control.injectFault({ route: 'download', count: 1, fault: { kind: 'delay', ms: 2_000 } });
      let calls = 0;
      const done = b.runtime.record(id, { maxRecordDurationInSeconds: 30 }, () => {
        calls++;
      });
      await b.clock.advance(MIN);
      const out = await done;
      expect(out).toMatchObject({ final: 'deleted', outcome: 'downloadFailed', error: { status: 404 } });
      expect(calls).toBe(0);
      expect(b.requests('download')).toEqual([[5 * SEC, 404]]);
      expect(b.recordStates(id, out.recordId).map(([, v]) => v)).toEqual([
        'requesting',
        'recording',
        'holdingClip.downloading',
        'holdingClip.deleting.trying',
        'deleted',
      ]);
      expect(await b.store.list()).toEqual([]);
      expect(b.storeOps.filter((o) => o.op === 'write')).toEqual([]);
    });

    it('invalid options: a typed GraphError before any request', async () => {
      b = await bench({ beta: version === 'beta' });
      const id = b.call();
      const bad: RecordOptionsInput[] = [
        { maxRecordDurationInSeconds: 0 },
        { maxRecordDurationInSeconds: 301 },
        { clientContext: 'x'.repeat(257) },
        {
          prompts: [
            { mediaInfo: { uri: 'https://bot.example/a.wav' } },
            { mediaInfo: { uri: 'https://bot.example/b.wav' } },
          ],
        },
        { stopTones: ['X'] } as unknown as RecordOptionsInput,
      ];
      for (const options of bad) {
        const err = await b.runtime
          .record(id, options, () => {})
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err).toBeInstanceOf(GraphError);
        expect(err).toMatchObject({ kind: 'invalidRequest', code: 'invalidRecordOptions' });
      }
      await b.clock.advance(MIN);
      expect(b.requests(route)).toEqual([]);
      expect(b.runtime.get(id)?.getSnapshot().context.records).toEqual({});
      expect(b.states.filter((s) => s.machine === 'record')).toEqual([]);
    });
  });
}

describe('record request retries', () => {
  it('a 429 on the record POST is retried by the adapter after Retry-After, on the clock', async () => {
    b = await bench();
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
    b.emulator.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'status', status: 429, retryAfter: '1.5' },
    });
    const done = b.runtime.record(id, { stopTones: ['#'], maxRecordDurationInSeconds: 30 }, () => 'ok');
    await b.clock.advance(MIN);
    const out = await done;
    expect(b.requests('recordResponse', id)).toEqual([
      [0, 429],
      [1_500, 200],
    ]);
    // Started at 1.5 s: beep 1 s + 2 s of speech.
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed', at: b.t0 + 4_500, result: 'ok' });
    expect(await b.store.list()).toEqual([]);
  });

  it('a 500 on the record POST is not retried (Graph may have started it): requestFailed', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'status', status: 500 },
    });
    const out = await Promise.all([b.runtime.record(id, {}, () => 'ok'), b.clock.advance(MIN)]).then(
      ([o]) => o,
    );
    expect(b.requests('recordResponse', id)).toEqual([[0, 500]]);
    expect(out).toMatchObject({ final: 'failed', outcome: 'requestFailed', error: { status: 500 } });
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  });
});

describe('with the file store (the production default)', () => {
  it('the clip is a private file only while the handler runs', async () => {
    const store = createFileRecordingStore();
    b = await bench({ store });
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
    const seen: { path?: string; mode?: number; size?: number } = {};
    const done = b.runtime.record(id, { stopTones: ['#'] }, async (clip) => {
      seen.path = clip.path;
      const st = await stat(clip.path!);
      seen.mode = st.mode & 0o777;
      seen.size = st.size;
    });
    await b.clock.advance(MIN);
    expect(await done).toMatchObject({ final: 'deleted', outcome: 'processed', bytes: wavBytes(2) });
    expect(seen).toMatchObject({ mode: 0o600, size: wavBytes(2) });
    expect(seen.path?.startsWith(await store.dir)).toBe(true);
    await expect(stat(seen.path!)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(await store.dir)).toEqual([]);
    await b.close();
    b = undefined;
    await store.close();
  });
});
