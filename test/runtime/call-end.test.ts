/**
 * How calls and records end, against the emulator over loopback with the real
 * undici adapter (issue 13, items 2, 4 and 8): Graph's keepAlive expiry reads
 * `expired` with its resultInfo in every spelling; a refused keepAlive ends the
 * call at once, said on events$ and in an error log; a completion without
 * completionReason gets it from the documented subcodes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/adapters/clock.js';
import type { Variants } from '../../src/emulator/index.js';
import type { LogEntry } from '../../src/runtime.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const EXPIRY = { code: 408, subcode: 8537, message: 'Keep Alive timeout, cleaned up inactive call.' };

describe("Graph's keepAlive expiry", () => {
  it.each<[string, Partial<Variants>]>([
    ['numbers', {}],
    ['numeric strings', { stringCodes: true }],
    ['subCode', { subCode: true }],
    ['numeric strings and subCode', { stringCodes: true, subCode: true }],
  ])('408/8537 as %s: the call ends expired with resultInfo as numbers', async (_, variants) => {
    // Graph's timer runs out (10 min here) before the bot's first keepAlive (15 min).
    b = await bench({ emulator: { keepAliveTimeoutMs: 10 * MIN } });
    const id = b.call({ variants });
    const ended = b.runtime.whenEnded(id);
    await b.clock.advance(20 * MIN);
    expect(await ended).toEqual({
      callId: id,
      reason: 'expired',
      endedAt: b.t0 + 10 * MIN,
      resultInfo: EXPIRY,
    });
    expect(b.eventsOf(id, 'call.ended')).toMatchObject([{ reason: 'expired', resultInfo: EXPIRY }]);
    expect(b.requests('keepAlive', id)).toEqual([]);
  });
});

describe('a refused keepAlive', () => {
  function refusedBench(status: number, count: number) {
    return async () => {
      const logs: LogEntry[] = [];
      b = await bench({ runtime: { log: (e) => logs.push(e) } });
      const id = b.call();
      b.emulator.control.injectFault({
        route: 'keepAlive',
        callId: id,
        count,
        fault: { kind: 'status', status },
      });
      const ended = b.runtime.whenEnded(id);
      await b.clock.advance(60 * MIN);
      return { b, id, logs, out: await ended };
    };
  }

  it.each([
    [400, 'badRequest'],
    [403, 'accessDenied'],
  ])(
    '%i: ends keepAliveRefused at the first answer, no retry, said on events$ and at error level',
    async (status) => {
      const { b, id, logs, out } = await refusedBench(status, 10_000)();
      const sent = b.emulator.control.requests({ route: 'keepAlive', callId: id });
      expect(sent.map((r) => [b.rel(r.at), r.status])).toEqual([[15 * MIN, status]]);
      expect(out).toMatchObject({
        callId: id,
        reason: 'keepAliveRefused',
        endedAt: b.t0 + 15 * MIN,
        error: {
          kind: 'http',
          status,
          requestId: sent[0]?.requestId,
          clientRequestId: sent[0]?.clientRequestId,
        },
      });
      expect(out.error?.code).toEqual(expect.any(String));
      const refused = b.eventsOf(id, 'keepAlive.refused');
      expect(refused).toMatchObject([
        { at: b.t0 + 15 * MIN, status, code: out.error?.code, requestId: sent[0]?.requestId },
      ]);
      expect(b.eventsOf(id, 'keepAlive.failed')).toEqual([]);
      expect(b.eventsOf(id, 'call.ended')).toMatchObject([{ reason: 'keepAliveRefused' }]);
      expect(logs.filter((l) => l.level === 'error')).toMatchObject([
        {
          msg: expect.stringContaining('keepAlive refused'),
          callId: id,
          status,
          requestId: sent[0]?.requestId,
        },
      ]);
      // No hang-up: the DELETE would be refused as well (README, "How a call ends").
      expect(b.requests('hangUp', id)).toEqual([]);
      expect(JSON.stringify([logs, b.events, out])).not.toContain('test-app-token');
    },
  );

  it('401 once: the adapter refreshes the token and retries at once; the call is kept', async () => {
    const t = await bench();
    b = t;
    const id = t.call();
    t.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 1,
      fault: { kind: 'status', status: 401 },
    });
    await t.clock.advance(20 * MIN);
    expect(t.requests('keepAlive', id)).toEqual([
      [15 * MIN, 401],
      [15 * MIN, 200],
    ]);
    expect(t.eventsOf(id, 'keepAlive.refused')).toEqual([]);
    expect(t.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  });

  it('401 again after the refresh: keepAliveRefused', async () => {
    const { b, id, out, logs } = await refusedBench(401, 2)();
    expect(b.requests('keepAlive', id)).toEqual([
      [15 * MIN, 401],
      [15 * MIN, 401],
    ]);
    expect(out).toMatchObject({
      reason: 'keepAliveRefused',
      endedAt: b.t0 + 15 * MIN,
      error: { status: 401, code: 'InvalidAuthenticationToken' },
    });
    expect(logs.some((l) => l.level === 'error' && l.status === 401)).toBe(true);
  });

  it("Graph's end notification while a clip is still processing adds its resultInfo to the refused call's output", async () => {
    b = await bench({ runtime: { recordPolicy: { processingTimeoutMs: 10 * MIN } } });
    const t = b;
    const id = t.call({ script: { caller: { kind: 'speak', seconds: 4, thenTone: '#' } } });
    const ended = t.runtime.whenEnded(id);
    await t.clock.advance(14 * MIN);
    // Completes at 14:05; the handler takes two minutes, past the refusal at 15:00.
    const done = t.runtime.record(id, { stopTones: ['#'] }, (clip) => clip.wait(sleep(t.clock, 2 * MIN)));
    t.emulator.control.injectFault({
      route: 'keepAlive',
      callId: id,
      count: 1,
      fault: { kind: 'status', status: 403 },
    });
    await t.clock.advance(MIN + 30 * SEC);
    expect(t.runtime.get(id)?.getSnapshot().value).toBe('draining');
    t.emulator.control.hangUpByCaller(id);
    await t.clock.advance(5 * MIN);
    expect(await done).toMatchObject({ final: 'deleted', outcome: 'processed' });
    expect(await ended).toMatchObject({
      reason: 'keepAliveRefused',
      endedAt: t.t0 + 15 * MIN,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
      error: { status: 403 },
    });
  });

  it('one refused call does not disturb another', async () => {
    b = await bench();
    const a = b.call();
    const c = b.call();
    b.emulator.control.injectFault({
      route: 'keepAlive',
      callId: a,
      count: 10_000,
      fault: { kind: 'status', status: 403 },
    });
    const endedA = b.runtime.whenEnded(a);
    await b.clock.advance(60 * MIN);
    expect(await endedA).toMatchObject({ reason: 'keepAliveRefused', endedAt: b.t0 + 15 * MIN });
    expect(b.requests('keepAlive', c)).toEqual([15, 30, 45, 60].map((m) => [m * MIN, 200]));
    expect(b.runtime.get(c)?.getSnapshot().value).toEqual({ established: 'active' });
  });
});

describe('completionReason from resultInfo, end to end', () => {
  for (const beta of [false, true]) {
    const variants: Partial<Variants> = { omitCompletionReason: true, stringCodes: true, subCode: true };

    it(`${beta ? 'beta' : 'v1.0'}: 200/8515 without completionReason -> maxRecordDurationReached`, async () => {
      b = await bench({ beta });
      const id = b.call({ script: { caller: { kind: 'speak', seconds: 20 } }, variants });
      const seen: Array<string | null | undefined> = [];
      const done = b.runtime.record(id, { maxRecordDurationInSeconds: 10 }, (clip) => {
        seen.push(clip.completionReason);
      });
      await b.clock.advance(MIN);
      expect(await done).toMatchObject({
        final: 'deleted',
        outcome: 'processed',
        completionReason: 'maxRecordDurationReached',
        resultInfo: { code: 200, subcode: 8515 },
      });
      expect(seen).toEqual(['maxRecordDurationReached']);
      // The notification really had no completionReason, and its subcode under subCode (sent as a string, read as a number).
      const body = JSON.stringify(b.notifications.flatMap((n) => n.resources.map((r) => r.data)));
      expect(body).not.toContain('completionReason');
      expect(body).toContain('"subCode":8515');
    });

    it(`${beta ? 'beta' : 'v1.0'}: 400/8508 (cancelled) without completionReason -> operationCanceled`, async () => {
      b = await bench({ beta });
      const id = b.call({ script: { caller: { kind: 'speak', seconds: 20 } }, variants });
      const done = b.runtime.record(id, { maxRecordDurationInSeconds: 30 }, () => {});
      await b.clock.advance(3 * SEC);
      b.runtime.cancelMedia(id);
      await b.clock.advance(MIN);
      expect(await done).toMatchObject({
        final: 'failed',
        outcome: 'operationFailed',
        completionReason: 'operationCanceled',
        resultInfo: { code: 400, subcode: 8508 },
      });
    });
  }
});
