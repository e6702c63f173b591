/**
 * The keepAlive lifecycle against the emulator on simulated time: cadence over
 * a day, Retry-After, the 45-minute rule under a run of 503s, and 404.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

describe('keepAlive cadence', () => {
  it('a 24-hour call sends 96 keepAlives at start + k*15 min and stays alive', async () => {
    b = await bench();
    const id = b.call();
    const wall = performance.now();
    await b.clock.advance(24 * 60 * MIN);
    // A figure for the log, not an assertion.
    console.log(`24 h call, 96 keepAlives: ${Math.round(performance.now() - wall)} ms of wall time`);

    const ka = b.requests('keepAlive', id);
    expect(ka).toEqual(Array.from({ length: 96 }, (_, k) => [(k + 1) * 15 * MIN, 200]));
    expect(b.emulator.control.call(id)).toMatchObject({
      state: 'established',
      lastKeepAliveAt: b.t0 + 24 * 60 * MIN,
      expiresAt: b.t0 + 24 * 60 * MIN + 45 * MIN,
    });
    const sent = b.eventsOf(id, 'keepAlive.sent');
    expect(sent.map((e) => [b!.rel(e.at), e.count])).toEqual(
      Array.from({ length: 96 }, (_, k) => [(k + 1) * 15 * MIN, k + 1]),
    );
    // active -> keepAliveDue -> active, 96 times, each at its quarter hour.
    const due = b.callStates(id).filter(([, v]) => v === 'established.keepAliveDue');
    expect(due.map(([t]) => t)).toEqual(Array.from({ length: 96 }, (_, k) => (k + 1) * 15 * MIN));
    const actor = b.runtime.get(id);
    expect(actor?.getSnapshot().value).toEqual({ established: 'active' });
    expect(actor?.getSnapshot().context).toMatchObject({
      keepAlivesSent: 96,
      failures: 0,
      deadlineAt: b.t0 + 24 * 60 * MIN + 45 * MIN,
      nextKeepAliveAt: b.t0 + 24 * 60 * MIN + 15 * MIN,
    });
    expect(b.runtime.stats()).toMatchObject({ tracked: 1, unknownCall: 0, rejectedNotifications: 0 });
  });

  it('honours a configured 30-minute interval', async () => {
    b = await bench({ runtime: { callPolicy: { keepAliveIntervalMs: 30 * MIN } } });
    const id = b.call();
    await b.clock.advance(3 * 60 * MIN);
    expect(b.requests('keepAlive', id).map(([t]) => t)).toEqual(
      [30, 60, 90, 120, 150, 180].map((m) => m * MIN),
    );
  });
});

describe('Retry-After', () => {
  it.each([
    ['120', 120 * SEC],
    ['2.128', 2_128],
  ])('429 with Retry-After: %s -> the next keepAlive exactly %i ms later', async (header, wait) => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 1,
      fault: { kind: 'status', status: 429, retryAfter: header },
    });
    await b.clock.advance(45 * MIN);
    const ka = b.requests('keepAlive', id);
    expect(ka.slice(0, 3)).toEqual([
      [15 * MIN, 429],
      [15 * MIN + wait, 200],
      // The cadence restarts from the success.
      [30 * MIN + wait, 200],
    ]);
    const failed = b.eventsOf(id, 'keepAlive.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: 429, retryInMs: wait, at: b.t0 + 15 * MIN });
    expect(b.callStates(id).slice(0, 5)).toEqual([
      [0, 'established.active'],
      [15 * MIN, 'established.keepAliveDue'],
      [15 * MIN, 'established.retryWait'],
      [15 * MIN + wait, 'established.keepAliveDue'],
      [15 * MIN + wait, 'established.active'],
    ]);
    expect(b.emulator.control.call(id)?.state).toBe('established');
  });

  it('an HTTP-date Retry-After waits until that date on the clock', async () => {
    b = await bench();
    const id = b.call();
    const when = new Date(b.t0 + 15 * MIN + 90 * SEC).toUTCString();
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 1,
      fault: { kind: 'status', status: 503, retryAfter: when },
    });
    await b.clock.advance(20 * MIN);
    expect(b.requests('keepAlive', id)).toEqual([
      [15 * MIN, 503],
      [15 * MIN + 90 * SEC, 200],
    ]);
  });
});

describe('slow answers', () => {
  it('a keepAlive answer held past the 30-s request timeout fails as a timeout and is retried', async () => {
    b = await bench();
    const id = b.call();
    // The emulator holds the request 40 s on the clock; the bot gives up after 30 s.
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 1,
      fault: { kind: 'delay', ms: 40 * SEC },
    });
    await b.clock.advance(20 * MIN);
    const failed = b.eventsOf(id, 'keepAlive.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ at: b.t0 + 15 * MIN + 30 * SEC });
    const ka = b.requests('keepAlive', id);
    expect(ka[0]?.[0]).toBe(15 * MIN);
    expect(ka).toHaveLength(2);
    // Backoff from 5 s with jitter in [0.5, 1).
    const retry = (ka[1]?.[0] ?? 0) - (15 * MIN + 30 * SEC);
    expect(retry).toBeGreaterThanOrEqual(2_500);
    expect(retry).toBeLessThan(5_000);
    expect(ka[1]?.[1]).toBe(200);
    expect(b.runtime.get(id)?.getSnapshot().context).toMatchObject({
      keepAlivesSent: 1,
      lastSuccessAt: b.t0 + 15 * MIN + 30 * SEC + retry,
    });
  });

  it('a keepAlive answered slowly but in time is a success at the time of the answer', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 1,
      fault: { kind: 'delay', ms: 20 * SEC },
    });
    await b.clock.advance(40 * MIN);
    expect(b.eventsOf(id, 'keepAlive.sent').map((e) => b!.rel(e.at))).toEqual([
      15 * MIN + 20 * SEC,
      30 * MIN + 20 * SEC,
    ]);
  });
});

describe('the 45-minute rule', () => {
  it('under a run of 503s: retries with backoff inside the deadline, then the call ends at 45:00', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 10_000,
      fault: { kind: 'status', status: 503 },
    });
    const ended = b.runtime.whenEnded(id);
    await b.clock.advance(60 * MIN);
    const out = await ended;

    const ka = b.requests('keepAlive', id);
    const times = ka.map(([t]) => t);
    expect(ka.every(([, s]) => s === 503)).toBe(true);
    expect(times[0]).toBe(15 * MIN);
    // Exponential backoff from 5 s (jitter 0.5..1), capped at 5 min, clipped to the deadline margin.
    for (let i = 1; i < times.length - 1; i++) {
      const gap = times[i]! - times[i - 1]!;
      const nominal = Math.min(5 * MIN, 5 * SEC * 2 ** (i - 1));
      expect(gap).toBeGreaterThanOrEqual(nominal * 0.5);
      expect(gap).toBeLessThanOrEqual(nominal);
    }
    // The last try goes out at the latest useful moment, 30 s before the deadline; none after it.
    expect(times.at(-1)).toBe(45 * MIN - 30 * SEC);
    expect(times.every((t) => t < 45 * MIN)).toBe(true);
    expect(times.length).toBeGreaterThan(8);

    // The emulator's expiry timer and the bot's deadline timer are both due at 45:00. The
    // emulator's was armed first (at call creation), so it fires first, and the clock lets its
    // signed terminating/terminated notifications reach the bot before the bot's own timer runs:
    // Graph's 408/8537 reads `expired`, with its resultInfo, at exactly 45:00.
    expect(out).toEqual({
      callId: id,
      reason: 'expired',
      endedAt: b.t0 + 45 * MIN,
      resultInfo: { code: 408, subcode: 8537, message: 'Keep Alive timeout, cleaned up inactive call.' },
    });
    expect(b.emulator.control.call(id)).toMatchObject({
      state: 'terminated',
      endedAt: b.t0 + 45 * MIN,
      endedBy: 'keepAliveTimeout',
      endReason: { code: 408, subcode: 8537 },
    });
    const notes = b.emulator.control.notifications({ callId: id });
    expect(notes.map((n) => [b!.rel(n.at), n.changeType, n.state, n.delivery, n.httpStatus])).toEqual([
      [45 * MIN, 'updated', 'terminating', 'delivered', 202],
      [45 * MIN, 'deleted', 'terminated', 'delivered', 202],
    ]);
    const call = b.callStates(id);
    // With no recording to wait for, draining is passed within one step: snapshots show `ended`.
    expect(call.slice(-2)).toEqual([
      [45 * MIN - 30 * SEC, 'established.retryWait'],
      [45 * MIN, 'ended'],
    ]);
    expect(b.runtime.get(id)).toBeUndefined();
    expect(b.eventsOf(id, 'keepAlive.failed')).toHaveLength(ka.length);
    expect(b.runtime.stats().tracked).toBe(0);
  });

  it('ends `expired` on its own deadline when Graph says nothing (terminated notifications dropped)', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 10_000,
      fault: { kind: 'status', status: 503 },
    });
    b.emulator.control.injectFault({
      callId: id,
      resource: 'call',
      count: 2,
      fault: { kind: 'notification', mode: 'drop' },
    });
    const ended = b.runtime.whenEnded(id);
    await b.clock.advance(60 * MIN);
    expect(await ended).toEqual({ callId: id, reason: 'expired', endedAt: b.t0 + 45 * MIN });
    expect(b.requests('keepAlive', id).every(([t]) => t < 45 * MIN)).toBe(true);
  });

  it('a success in the middle of a run of failures restarts the 45-minute window', async () => {
    b = await bench();
    const id = b.call();
    // Fail for ~40 minutes of attempts, then recover.
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 10,
      fault: { kind: 'status', status: 500 },
    });
    await b.clock.advance(6 * 60 * MIN);
    const ka = b.requests('keepAlive', id);
    const ok = ka.filter(([, s]) => s === 200).map(([t]) => t);
    expect(ka.filter(([, s]) => s === 500)).toHaveLength(10);
    // Never more than 45 min between successes (or from the start to the first).
    const gaps = [0, ...ok].slice(1).map((t, i) => t - ([0, ...ok][i] ?? 0));
    expect(Math.max(...gaps)).toBeLessThan(45 * MIN);
    expect(b.emulator.control.call(id)?.state).toBe('established');
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  });
});

describe('404', () => {
  it('the caller vanishes silently: the next keepAlive gets 404 and the call ends notFound', async () => {
    b = await bench();
    const id = b.call();
    const ended = b.runtime.whenEnded(id);
    await b.clock.advance(10 * MIN);
    expect(b.emulator.control.hangUpByCaller(id, { silent: true })).toBe(true);
    await b.clock.advance(20 * MIN);
    expect(await ended).toEqual({ callId: id, reason: 'notFound', endedAt: b.t0 + 15 * MIN });
    expect(b.requests('keepAlive', id)).toEqual([[15 * MIN, 404]]);
    expect(b.emulator.control.notifications({ callId: id })).toEqual([]);
    expect(b.callStates(id)).toEqual([
      [0, 'established.active'],
      [15 * MIN, 'established.keepAliveDue'],
      [15 * MIN, 'ended'],
    ]);
    expect(b.eventsOf(id, 'call.ended')).toMatchObject([{ reason: 'notFound', at: b.t0 + 15 * MIN }]);
  });
});
