/**
 * Offers that go wrong, each beside a good one that must not notice: an
 * onIncomingCall that throws, one that never settles, a redirect to 26
 * targets, a malformed offer. Emulator over loopback, JWTs validated,
 * SimulatedClock.
 */
import { afterEach, expect, it } from 'vitest';
import { sleep } from '../../src/adapters/clock.js';
import type { IncomingCall, IncomingDecision } from '../../src/options/calls.js';
import { OptionsError } from '../../src/options/error.js';
import type { LogEntry } from '../../src/runtime.js';
import { type Bench, bench, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

/** The bench of the running test (for handlers written before it exists). */
const b0 = (): Bench => b as Bench;

const user = (n: number) => ({ identity: { user: { id: `user-${n}` } } });

async function botWith(
  decide: (call: IncomingCall, n: number) => IncomingDecision | Promise<IncomingDecision>,
) {
  const logs: LogEntry[] = [];
  // The two offers travel in parallel, so arrival order says nothing: the bad call is known by its id.
  b = await bench({
    runtime: {
      log: (e) => logs.push(e),
      onIncomingCall: (call) => decide(call, call.callId === badId ? 1 : 2),
    },
  });
  return { b, logs };
}

/** The call `botWith`'s decide sees as number 1 (the bad one); every other call is number 2. */
let badId: string | undefined;

/** Ring a bad call, then a good one answered by the same bot. */
async function badThenGood(b: Bench) {
  const bad = b.emulator.ring({ callbackUri: b.callbackUri, from: '+14255550100' });
  badId = bad.id;
  const good = b.emulator.ring({ callbackUri: b.callbackUri, from: '+14255550101' });
  await b.clock.advance(1 * SEC);
  await b.runtime.whenEstablished(good.id);
  return { bad, good };
}

it('an onIncomingCall that throws: that call is rejected with a log line; the next call is answered', async () => {
  const { b, logs } = await botWith((_, n) => {
    if (n === 1) throw new Error('database down');
    return { answer: {} };
  });
  const { bad } = await badThenGood(b);
  await expect(b.runtime.whenEnded(bad.id)).resolves.toMatchObject({ reason: 'rejected' });
  expect(logs).toContainEqual(
    expect.objectContaining({
      level: 'error',
      msg: 'onIncomingCall threw: the call is rejected',
      callId: bad.id,
    }),
  );
  expect(b.requests('answer')).toHaveLength(1);
});

it('an onIncomingCall that never settles: rejected at the decision deadline (10 s), logged; others go on', async () => {
  const { b, logs } = await botWith((_, n) => (n === 1 ? new Promise<never>(() => {}) : { answer: {} }));
  const { bad, good } = await badThenGood(b);
  await b.clock.advance(10 * SEC);
  await expect(b.runtime.whenEnded(bad.id)).resolves.toMatchObject({ reason: 'decisionTimeout' });
  expect(b.requests('reject', bad.id)).toEqual([[expect.any(Number), 202]]);
  expect(b.requests('reject', bad.id)[0]?.[0]).toBeGreaterThanOrEqual(10 * SEC);
  expect(logs.map((l) => l.msg)).toContain('onIncomingCall did not decide in time: the call was rejected');
  expect(b.runtime.get(good.id)?.getSnapshot().matches('established')).toBe(true);
});

it('a redirect to 26 targets: refused before any request (OptionsError), the call rejected; runtime.redirect throws it too', async () => {
  const targets = Array.from({ length: 26 }, (_, i) => user(i));
  const { b, logs } = await botWith((_, n) => (n === 1 ? { redirect: { targets } } : { answer: {} }));
  const { bad } = await badThenGood(b);
  await expect(b.runtime.whenEnded(bad.id)).resolves.toMatchObject({ reason: 'rejected' });
  expect(b.requests('redirect')).toEqual([]);
  expect(logs.find((l) => l.callId === bad.id && l.level === 'error')?.msg).toMatch(/at most 25 targets/);

  const third = b.emulator.ring({ callbackUri: b.callbackUri });
  const err = await b.runtime.redirect(third.id, targets).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OptionsError);
  expect((err as OptionsError).path).toBe('targets');
  const short = await b.runtime.redirect(third.id, [user(1)], 5).catch((e: unknown) => e);
  expect((short as OptionsError).path).toBe('timeout');
  expect(b.requests('redirect')).toEqual([]);
});

it('a malformed offer touches no call; a duplicate offer is answered once', async () => {
  const offers: string[] = [];
  b = await bench({
    verifyNotifications: false,
    emulator: { defaultScript: { offer: { duplicate: true } } },
    runtime: {
      log: false,
      onIncomingCall: (call) => {
        offers.push(call.callId);
        return { answer: {} };
      },
    },
  });
  const bad = await b.runtime.handleNotification(
    {
      value: [
        {
          changeType: 'created',
          resourceUrl: '/communications/calls/',
          resourceData: { '@odata.type': '#microsoft.graph.call', state: 'incoming' },
        },
        { changeType: 'created', resourceUrl: '/communications/calls/abc', resourceData: 'incoming' },
        {
          changeType: 'created',
          resourceUrl: '/communications/calls/def',
          resourceData: { '@odata.type': '#microsoft.graph.call', state: 42 },
        },
      ],
    },
    {},
  );
  expect(bad.status).toBeLessThan(500);
  const good = b.emulator.ring({ callbackUri: b.callbackUri });
  await b.clock.advance(1 * SEC);
  await b.runtime.whenEstablished(good.id);
  expect(offers).toEqual([good.id]);
  expect(b.requests('answer')).toHaveLength(1);
  expect(b.runtime.calls()).toEqual([good.id]);
});

it('an offer from a tenant not in notificationAuth.tenants: 401, no call, onIncomingCall never asked', async () => {
  const asked: string[] = [];
  const logs: LogEntry[] = [];
  b = await bench({
    notificationTenants: ['0a0a0a0a-0000-4000-8000-000000000000'],
    runtime: {
      log: (e) => logs.push(e),
      onIncomingCall: (call) => {
        asked.push(call.callId);
        return { answer: {} };
      },
    },
  });
  b.emulator.ring({ callbackUri: b.callbackUri });
  await b.clock.advance(20 * SEC);
  expect(asked).toEqual([]);
  expect(b.runtime.calls()).toEqual([]);
  expect(b.requests('answer')).toEqual([]);
  expect(logs).toContainEqual(expect.objectContaining({ msg: 'notification rejected', status: 401 }));
});

it('a decision that comes after the deadline is dropped with a log line: the offer stays rejected', async () => {
  const { b, logs } = await botWith(async (_, n) => {
    if (n === 1) await sleep(b0().clock, 12 * SEC);
    return { answer: {} };
  });
  const { bad } = await badThenGood(b);
  await b.clock.advance(15 * SEC);
  await expect(b.runtime.whenEnded(bad.id)).resolves.toMatchObject({ reason: 'decisionTimeout' });
  expect(b.requests('answer', bad.id)).toEqual([]);
  expect(logs).toContainEqual(
    expect.objectContaining({ msg: 'decision came too late and was dropped', callId: bad.id }),
  );
});
