/** The small pieces under persistence: sealing, envelope checks, the memory store's contract. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemorySnapshotStore, SnapshotStoreError } from '../../src/adapters/snapshot-store.js';
import {
  parseEnvelope,
  prepareResume,
  SNAPSHOT_FORMAT,
  type SnapshotEnvelope,
} from '../../src/runtime/persistence.js';
import { parseSealKey, SealError, seal, unseal } from '../../src/runtime/seal.js';

const CALL = '491f0b00-ffff-4bc9-0000-5a5e9e0e0c01';

describe('seal', () => {
  const key = parseSealKey(randomBytes(32));

  it('round-trips, bound to its associated data and key', () => {
    const sealed = seal(key, 'recording-token', CALL);
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('recording-token');
    expect(unseal(key, sealed, CALL)).toBe('recording-token');
    expect(() => unseal(key, sealed, 'another-call')).toThrow(SealError);
    expect(() => unseal(parseSealKey(randomBytes(32)), sealed, CALL)).toThrow(/wrong key or tampered/);
    expect(() => unseal(key, 'v1.a.b', CALL)).toThrow(/unknown format/);
    expect(() => unseal(key, 'v2.a.b.c', CALL)).toThrow(/format version "v2".*reads "v1" only/);
    expect(seal(key, 'x', CALL)).not.toBe(seal(key, 'x', CALL)); // fresh IV each time
  });

  it('refuses a tag cut to 4, 8 or 12 bytes (GCM would open it), and a short IV', () => {
    const sealed = seal(key, 'recording-token', CALL);
    const [v, iv, tag, ct] = sealed.split('.') as [string, string, string, string];
    for (const n of [4, 8, 12]) {
      const short = Buffer.from(tag, 'base64url').subarray(0, n).toString('base64url');
      expect(() => unseal(key, [v, iv, short, ct].join('.'), CALL)).toThrow(
        expect.objectContaining({ code: 'invalidSealed', message: expect.stringMatching(/16-byte tag/) }),
      );
    }
    const shortIv = Buffer.from(iv, 'base64url').subarray(0, 8).toString('base64url');
    expect(() => unseal(key, [v, shortIv, tag, ct].join('.'), CALL)).toThrow(/12-byte IV/);
  });

  it('still opens what the previous code sealed (the v1 format is unchanged)', () => {
    // Sealed by the code before the tag-length check, key = 32 bytes of 7.
    const old = 'v1.a7Y4o3Ak-VkceVQG.6W_jZ0Z1-5uEg30XEN_tog.OhgfZvupJEGZSp8kbCHG';
    expect(unseal(Buffer.alloc(32, 7), old, CALL)).toBe('recording-token');
  });

  it('accepts 32 bytes as bytes, hex or base64 and refuses anything else', () => {
    const bytes = randomBytes(32);
    expect(parseSealKey(bytes.toString('hex'))).toEqual(bytes);
    expect(parseSealKey(bytes.toString('base64'))).toEqual(bytes);
    expect(parseSealKey(bytes.toString('base64url'))).toEqual(bytes);
    for (const bad of ['', 'secret', randomBytes(16).toString('hex'), randomBytes(31)] as const)
      expect(() => parseSealKey(bad)).toThrow(
        expect.objectContaining({ name: 'SealError', code: 'invalidKey' }),
      );
  });
});

describe('snapshot envelopes', () => {
  const env = (over: Partial<SnapshotEnvelope> = {}): SnapshotEnvelope => ({
    format: SNAPSHOT_FORMAT,
    callId: CALL,
    savedAt: 0,
    snapshot: { status: 'active', value: 'active', context: { callId: CALL }, children: {} },
    ...over,
  });

  it('refuses what is not a call snapshot of this format, with the reason', () => {
    const read =
      (json: string, callId = CALL) =>
      () =>
        parseEnvelope({ callId, json });
    expect(read('{')).toThrow(/not JSON/);
    expect(read('[]')).toThrow(/not an object/);
    expect(read(JSON.stringify(env({ format: 3 as 2 })))).toThrow(
      expect.objectContaining({ code: 'unsupportedFormat' }),
    );
    expect(read(JSON.stringify(env()), '11111111-1111-1111-1111-111111111111')).toThrow(
      /not a call machine snapshot/,
    );
    expect(read(JSON.stringify(env({ snapshot: { status: 'active' } })))).toThrow(
      /not a call machine snapshot/,
    );
    expect(parseEnvelope({ callId: CALL.toUpperCase(), json: JSON.stringify(env()) }).callId).toBe(CALL);
  });

  it('prepareResume drops an in-flight keepAlive and replaces invokes that must not run again', () => {
    const record = (value: unknown, operationId: string | null = 'op-1') => ({
      src: 'recordMachine',
      snapshot: {
        status: 'active',
        value,
        context: { recordId: 'r', storeKey: `k-${JSON.stringify(value).length}`, operationId },
        children: {},
      },
    });
    const e = env({
      snapshot: {
        status: 'active',
        value: { established: 'keepAliveDue' },
        context: { callId: CALL },
        children: {
          keepAlive: { src: 'keepAlive', snapshot: { status: 'active' } },
          'rec-1': record('requesting', null),
          'rec-2': record({ holdingClip: 'downloading' }),
          'rec-3': record({ holdingClip: 'downloading' }, 'op-3'),
          'rec-4': record({ holdingClip: { processing: 'running' } }),
          'rec-5': record('recording'),
          'rec-6': { ...record('recording'), snapshot: { ...record('recording').snapshot, status: 'done' } },
        },
      },
    });
    const plan = prepareResume(e, 1_000, (op) => op === 'op-3');
    const kids = plan.snapshot.children ?? {};
    expect(kids.keepAlive).toBeUndefined();
    const stand = (id: string, inner: string) => kids[id]?.snapshot.children?.[inner];
    expect(stand('rec-1', 'startRecord')?.snapshot.input).toMatchObject({
      error: { code: 'resumedWhileRequesting' },
    });
    expect(stand('rec-2', 'downloadRecording')?.snapshot.input).toMatchObject({
      error: { code: 'tokenUnavailable' },
    });
    expect(stand('rec-3', 'downloadRecording')).toBeUndefined(); // token recovered: the download runs again
    expect(stand('rec-4', 'processClip')?.snapshot.input).toMatchObject({
      error: { code: 'resumedWhileProcessing' },
    });
    expect(plan.liveRecords).toEqual(['rec-1', 'rec-2', 'rec-3', 'rec-4', 'rec-5']);
    expect(plan.deleteFirst).toHaveLength(2);
    expect(plan.notes.map((n) => n.action)).toEqual([
      'keepAliveResent',
      'requestNotResent',
      'tokenUnavailable',
      'downloadRestarted',
      'processingInterrupted',
    ]);
    expect(e.snapshot.children?.keepAlive).toBeDefined(); // the input is left alone
  });
});

describe('memory snapshot store', () => {
  it('keeps strings by call id and refuses anything else', async () => {
    const store = createMemorySnapshotStore();
    await store.save(CALL, '{}');
    await store.save(CALL, '{"a":1}');
    expect(await store.loadAll()).toEqual([{ callId: CALL, json: '{"a":1}' }]);
    await expect(store.save('', '{}')).rejects.toBeInstanceOf(SnapshotStoreError);
    await expect(store.save(CALL, {} as string)).rejects.toMatchObject({ code: 'invalid' });
    await store.delete(CALL);
    await store.delete(CALL);
    expect(store.size).toBe(0);
    expect(store.stats).toEqual({ saves: 2, deletes: 1 });
  });
});
