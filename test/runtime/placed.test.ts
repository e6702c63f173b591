/**
 * A placed call is known by a local handle until Graph's 201 names it; from
 * then on everything names Graph's id: the registry, states$/events$, and the
 * saved snapshot (the handle's one is deleted).
 */
import { afterEach, expect, it } from 'vitest';
import { createMemorySnapshotStore } from '../../src/adapters/snapshot-store.js';
import { type Bench, bench, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

it("a placed call answered by the callee: events, states and its snapshot carry Graph's id", async () => {
  const snapshots = createMemorySnapshotStore();
  b = await bench({
    emulator: { defaultScript: { callee: { kind: 'answer', afterSeconds: 5 } } },
    runtime: { snapshots, log: false },
  });
  const placing = b.runtime.placeCall({ targets: [{ identity: { user: { id: 'ada' } } }] });
  await b.clock.advance(1 * SEC);
  const callId = await placing;
  expect(callId).not.toMatch(/^placing-/);
  const up = b.runtime.whenEstablished(callId);
  await b.clock.advance(5 * SEC);
  await up;
  expect(b.eventsOf(callId, 'call.established')).toHaveLength(1);
  expect(b.events.filter((e) => e.callId.startsWith('placing-') && e.type === 'call.established')).toEqual(
    [],
  );
  expect(b.callStates(callId).at(-1)?.[1]).toBe('established.active');
  await b.clock.advance(1 * SEC);
  const saved = await snapshots.loadAll();
  expect(saved).toHaveLength(1);
  expect(saved.some((s) => s.callId.startsWith('placing-'))).toBe(false);
  expect(JSON.parse(saved[0]?.json ?? '{}').snapshot.context.callId).toBe(callId);
  const ended = b.runtime.hangUp(callId);
  await b.clock.advance(1 * SEC);
  await expect(ended).resolves.toMatchObject({ callId, reason: 'hungUp' });
});
