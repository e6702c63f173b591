/**
 * A snapshot saved by format 1 (the keepAlive-only call machine: states at
 * the top level, `hangingUp`, fewer context fields) is migrated when read
 * and the call resumes: kept alive against the emulator on its old deadline.
 */
import { afterEach, expect, it } from 'vitest';
import { createMemorySnapshotStore } from '../../src/adapters/snapshot-store.js';
import { DEFAULT_CALL_POLICY } from '../../src/machines/index.js';
import { parseEnvelope } from '../../src/runtime/snapshot-envelope.js';
import { type Bench, bench } from '../runtime/helpers.js';

const MIN = 60_000;
let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

/** What format 1 stored for a call kept alive since `at`, waiting in `value`. */
function v1Envelope(callId: string, at: number, value: unknown) {
  return JSON.stringify({
    format: 1,
    callId,
    savedAt: at,
    snapshot: {
      status: 'active',
      value,
      historyValue: {},
      children: {},
      context: {
        callId,
        policy: DEFAULT_CALL_POLICY,
        startedAt: at,
        at,
        lastSuccessAt: at,
        deadlineAt: at + 45 * MIN,
        nextKeepAliveAt: at + 15 * MIN,
        keepAlivesSent: 0,
        failures: 0,
        retryDelayMs: 0,
        retryAt: null,
        lastError: null,
        endReason: null,
        endedAt: null,
        terminationInfo: null,
        recordSeq: 0,
        cancelSeq: 0,
        records: {},
      },
    },
  });
}

it('maps the old states: keepAlive states under established, hangingUp to terminating', () => {
  const read = (value: unknown) =>
    parseEnvelope({ callId: 'c-1', json: v1Envelope('c-1', 0, value) }).snapshot;
  expect(read('active').value).toEqual({ established: 'active' });
  expect(read('keepAliveDue').value).toEqual({ established: 'keepAliveDue' });
  expect(read('hangingUp').value).toBe('terminating');
  const snap = read('retryWait');
  expect(snap.value).toEqual({ established: 'retryWait' });
  expect(snap.context).toMatchObject({
    start: 'established',
    setup: { establishedAt: 0 },
    prompts: {},
    seq: { lastTone: -1 },
  });
});

it('moves the old end and counter fields into the end and seq groups', () => {
  const env = JSON.parse(v1Envelope('c-1', 0, 'ended'));
  Object.assign(env.snapshot.context, {
    endReason: 'notFound',
    endedAt: 7 * MIN,
    terminationInfo: { code: 404, subcode: 0 },
    recordSeq: 3,
    cancelSeq: 2,
  });
  const ctx = parseEnvelope({ callId: 'c-1', json: JSON.stringify(env) }).snapshot.context;
  expect(ctx).toMatchObject({
    end: { reason: 'notFound', endedAt: 7 * MIN, resultInfo: { code: 404, subcode: 0 }, pendingReason: null },
    seq: { record: 3, cancel: 2, prompt: 0, lastTone: -1 },
  });
  for (const old of ['endReason', 'endedAt', 'terminationInfo', 'recordSeq', 'cancelSeq'])
    expect(ctx).not.toHaveProperty(old);
});

it('a stored format-1 call resumes and is kept alive on its old schedule', async () => {
  const snapshots = createMemorySnapshotStore();
  b = await bench({ verifyNotifications: false, runtime: { snapshots, log: false } });
  const info = b.emulator.createCall({ callbackUri: b.callbackUri });
  await snapshots.save(info.id, v1Envelope(info.id, b.clock.now(), 'active'));
  await expect(b.runtime.resume()).resolves.toHaveLength(1);
  expect(b.runtime.get(info.id)?.getSnapshot().matches({ established: 'active' })).toBe(true);
  await b.clock.advance(31 * MIN);
  expect(b.requests('keepAlive', info.id).map(([at, status]) => [at, status])).toEqual([
    [15 * MIN, 200],
    [30 * MIN, 200],
  ]);
});
