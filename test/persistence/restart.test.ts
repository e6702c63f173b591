/**
 * A bot process stops (or dies) and a new one resumes its calls from the
 * snapshot store, against the same emulator on the same simulated time:
 * the 45-minute rule holds across the gap, nothing is sent twice that must
 * not be, and no clip is left behind.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileRecordingStore } from '../../src/adapters/file-store.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import { createMemorySnapshotStore, type MemorySnapshotStore } from '../../src/adapters/snapshot-store.js';
import { normalizeId } from '../../src/graph/ids.js';
import type { RecordOutput } from '../../src/machines/index.js';
import type { Clip } from '../../src/runtime/clip.js';
import type { SnapshotEnvelope } from '../../src/runtime/persistence.js';
import { crashable, createWorld, type Instance, MIN, SEC, type World } from './world.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const RECORD = { maxRecordDurationInSeconds: 10, maxSilenceTimeoutInSeconds: 2 };

let w: World | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await w?.close();
  w = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function envelope(store: MemorySnapshotStore, callId: string): SnapshotEnvelope {
  const json = store.get(normalizeId(callId));
  if (!json) throw new Error(`no snapshot stored for ${callId}`);
  return JSON.parse(json) as SnapshotEnvelope;
}

/** The value of the (only) record child in a stored call snapshot. */
function storedRecordState(store: MemorySnapshotStore, callId: string): unknown {
  const children = envelope(store, callId).snapshot.children ?? {};
  return Object.values(children).find((c) => c.src === 'recordMachine')?.snapshot.value;
}

function recordDone(i: Instance, callId: string): RecordOutput | undefined {
  const e = i.events.find((x) => x.callId === callId && x.type === 'call.recordDone');
  return e?.output as RecordOutput | undefined;
}

/** Stop an instance the way a deploy does: snapshots flushed, nothing released. */
async function restart(world: World, old: Instance) {
  world.detach(old);
  await old.runtime.stop();
}

describe('resume after a restart (memory snapshot store)', () => {
  it('restart inside the window: the next keepAlive goes out exactly at the stored time', async () => {
    w = await createWorld();
    const snapshots = createMemorySnapshotStore();
    const a = w.start('A', { snapshots });
    const id = w.newCall();
    const t0 = w.clock.now();
    a.runtime.track(id);
    await w.clock.advance(20 * MIN);
    expect(envelope(snapshots, id).snapshot.context).toMatchObject({
      nextKeepAliveAt: t0 + 30 * MIN,
      deadlineAt: t0 + 60 * MIN,
    });
    await restart(w, a);
    expect(snapshots.size).toBe(1); // a stop is not an end

    await w.clock.advance(5 * MIN); // nobody runs the call for 5 minutes
    const b = w.start('B', { snapshots });
    expect(await b.runtime.resume()).toEqual([normalizeId(id)]);
    await w.clock.advance(40 * MIN);

    const rel = w.keepAlives(id).map(([at, status]) => [(at - t0) / MIN, status]);
    expect(rel).toEqual([
      [15, 200],
      [30, 200],
      [45, 200],
      [60, 200],
    ]);
    expect(w.attempts.filter((x) => x.instance === 'B').map((x) => (x.at - t0) / MIN)).toEqual([30, 45, 60]);
    expect(w.emulator.control.call(id)?.state).toBe('established');
  });

  it('deadline passed while down: keepAlive at once, 404, the call ends notFound and its snapshot goes', async () => {
    w = await createWorld();
    const snapshots = createMemorySnapshotStore();
    const a = w.start('A', { snapshots });
    const id = w.newCall();
    const t0 = w.clock.now();
    a.runtime.track(id);
    await w.clock.advance(20 * MIN);
    await restart(w, a);

    await w.clock.advance(41 * MIN); // t0 + 61 min: Graph dropped the call at t0 + 60
    expect(w.emulator.control.call(id)?.endedBy).toBe('keepAliveTimeout');
    const b = w.start('B', { snapshots });
    await b.runtime.resume();
    const ended = b.runtime.whenEnded(id);
    await w.clock.advance(0);

    await expect(ended).resolves.toMatchObject({ reason: 'notFound', endedAt: t0 + 61 * MIN });
    expect(w.keepAlives(id).map(([at, s]) => [(at - t0) / MIN, s])).toEqual([
      [15, 200],
      [61, 404],
    ]);
    expect(snapshots.size).toBe(0);
    expect(snapshots.stats.deletes).toBe(1);
  });

  it('saves once per burst of changes, always the latest snapshot, and deletes it when the call ends', async () => {
    w = await createWorld();
    const snapshots = createMemorySnapshotStore();
    const a = w.start('A', { snapshots });
    const id = w.newCall();
    const changes: unknown[] = [];
    a.runtime.states$.subscribe((s) => changes.push(s));
    a.runtime.track(id);
    const done = a.runtime.record(id, RECORD, async () => 'heard');
    await w.clock.advance(16 * MIN);
    await expect(done).resolves.toMatchObject({ final: 'deleted', outcome: 'processed', result: 'heard' });
    const stats = a.runtime.stats().snapshots;
    expect(stats?.writes).toBeGreaterThan(3);
    // Spawning a record changes the call and the record in one burst: one write, not two.
    expect(stats?.writes).toBeLessThan(changes.length);
    const live = a.runtime.get(id)?.getPersistedSnapshot();
    expect(envelope(snapshots, id).snapshot).toEqual(JSON.parse(JSON.stringify(live)));

    await a.runtime.hangUp(id);
    await w.clock.advance(0);
    expect(snapshots.size).toBe(0);
  });

  it('a record POST in flight when the process stopped is not sent again: requestFailed, resumedWhileRequesting', async () => {
    w = await createWorld();
    const snapshots = createMemorySnapshotStore();
    w.emulator.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'delay', ms: 60 * SEC },
    });
    const a = w.start('A', { snapshots });
    const id = w.newCall();
    a.runtime.track(id);
    const first = a.runtime.record(id, RECORD, async () => 'never');
    await w.clock.advance(SEC);
    expect(storedRecordState(snapshots, id)).toBe('requesting');
    await restart(w, a);
    await expect(first).resolves.toMatchObject({ outcome: 'callEnded' });

    const b = w.start('B', { snapshots });
    await b.runtime.resume();
    await w.clock.advance(2 * MIN);

    expect(w.emulator.control.requests({ route: 'recordResponse', callId: id })).toHaveLength(1);
    expect(recordDone(b, id)).toMatchObject({
      final: 'failed',
      outcome: 'requestFailed',
      error: { kind: 'interrupted', code: 'resumedWhileRequesting' },
    });
    // The call itself goes on.
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  });

  it('a clip downloaded but not deleted when the process died is deleted on resume (file store)', async () => {
    w = await createWorld();
    const dir = await mkdtemp(join(tmpdir(), 'gcm-resume-'));
    dirs.push(dir);
    const snapshots = createMemorySnapshotStore();
    const disk = crashable(createFileRecordingStore({ dir, clock: w.clock }));
    const a = w.start('A', { snapshots, store: disk.store });
    const id = w.newCall();
    a.runtime.track(id);
    let entered = false;
    void a.runtime.record(id, RECORD, async (clip: Clip, signal) => {
      entered = true;
      await clip.letTimeRun(
        new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
      );
    });
    expect(await w.clock.runUntil(() => entered, 5 * MIN)).toBe(true);
    expect(storedRecordState(snapshots, id)).toEqual({ holdingClip: { processing: 'running' } });
    expect(await readdir(dir)).toHaveLength(1);

    disk.crash(); // from here on the process is dead: its deletes never happen
    await restart(w, a);
    expect(await readdir(dir)).toHaveLength(1);

    const resumed: unknown[] = [];
    const b = w.start('B', {
      snapshots,
      store: createFileRecordingStore({ dir, clock: w.clock }),
      onResumedClip: (clip) => resumed.push(clip.recordId),
    });
    await b.runtime.resume();
    await w.clock.advance(SEC);

    expect(await readdir(dir)).toEqual([]);
    expect(resumed).toEqual([]); // deleted, not handed over again
    expect(recordDone(b, id)).toMatchObject({
      final: 'deleted',
      outcome: 'processingFailed',
      error: { code: 'resumedWhileProcessing' },
    });
  });

  for (const sealed of [true, false]) {
    it(`completed but not downloaded: ${sealed ? 'downloaded again with the sealed token' : 'without tokenKey it fails cleanly'}`, async () => {
      w = await createWorld();
      const snapshots = createMemorySnapshotStore();
      const store = createMemoryRecordingStore();
      w.emulator.control.injectFault({ route: 'download', count: 1, fault: { kind: 'delay', ms: 60 * SEC } });
      const key = sealed ? { tokenKey: KEY } : {};
      const a = w.start('A', { snapshots, store, ...key });
      const id = w.newCall();
      a.runtime.track(id);
      void a.runtime.record(id, RECORD, async () => 'first handler');
      const downloading = () =>
        JSON.stringify(storedRecordState(snapshots, id) ?? '').includes('downloading');
      expect(await w.clock.runUntil(downloading, 5 * MIN)).toBe(true);
      await restart(w, a);

      // The token travelled in the notification; the store holds it sealed or not at all.
      expect(w.tokens.size).toBe(1);
      const json = snapshots.get(normalizeId(id)) ?? '';
      for (const token of w.tokens) expect(json).not.toContain(token);
      expect(envelope(snapshots, id).tokens !== undefined).toBe(sealed);

      const heard: number[] = [];
      const b = w.start('B', {
        snapshots,
        store,
        ...key,
        onResumedClip: (clip) => {
          heard.push(clip.bytes);
          return 'resumed handler';
        },
      });
      await b.runtime.resume();
      await w.clock.advance(30 * SEC);

      const downloads = w.emulator.control.requests({ route: 'download' });
      expect(await store.list()).toEqual([]);
      if (sealed) {
        expect(heard).toHaveLength(1);
        expect(heard[0]).toBeGreaterThan(44);
        expect(downloads.map((r) => r.status)).toContain(200);
        expect(recordDone(b, id)).toMatchObject({ final: 'deleted', outcome: 'processed' });
      } else {
        expect(heard).toEqual([]);
        expect(downloads).toHaveLength(1); // only the one cut short
        expect(recordDone(b, id)).toMatchObject({
          final: 'deleted',
          outcome: 'downloadFailed',
          error: { code: 'tokenUnavailable' },
        });
      }
      expect(b.runtime.stats().tokensHeld).toBe(0);
    });
  }

  it('a snapshot that cannot be read is skipped with a logged error; the others resume', async () => {
    w = await createWorld();
    const snapshots = createMemorySnapshotStore();
    const a = w.start('A', { snapshots });
    const id = w.newCall();
    a.runtime.track(id);
    await w.clock.advance(0);
    await restart(w, a);
    await snapshots.save('11111111-2222-3333-4444-555555555555', '{"format":99}');
    await snapshots.save('not-json', '{');

    const b = w.start('B', { snapshots });
    expect(await b.runtime.resume()).toEqual([normalizeId(id)]);
    const errors = b.logs.filter((l) => l.msg === 'call not resumed').map((l) => String(l.error));
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).toMatch(/format 99/);
    expect(errors.join('\n')).toMatch(/not JSON/);
    expect(snapshots.size).toBe(3); // kept for a newer version or a person to look at
  });

  it('resume() without a snapshot store is a clear error', async () => {
    w = await createWorld();
    const a = w.start('A');
    await expect(a.runtime.resume()).rejects.toMatchObject({ name: 'RuntimeError', code: 'notConfigured' });
  });
});
