import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { GraphError } from '../../src/graph/errors.js';
import { callPath, raw, type Setup, setup } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as GraphError,
  );

describe('status faults', () => {
  it('answers 429 with a fractional Retry-After and a Graph-shaped body, for the next `count` matches only', async () => {
    env = await setup();
    const { emu } = env;
    const call = emu.createCall({ callbackUri: env.bot.url });
    const id = emu.control.injectFault({
      route: 'keepAlive',
      count: 2,
      fault: { kind: 'status', status: 429, retryAfter: '2.128' },
    });
    const url = callPath(emu, call.id, '/keepAlive');
    for (let i = 0; i < 2; i++) {
      const res = await raw(url, { method: 'POST' });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('2.128');
      expect(res.json.error).toMatchObject({ code: 'TooManyRequests', innerError: { status: '429' } });
    }
    expect((await raw(url, { method: 'POST' })).status).toBe(200);
    expect(emu.control.requests({ route: 'keepAlive' }).map((r) => [r.status, r.faults])).toEqual([
      [429, [id]],
      [429, [id]],
      [200, []],
    ]);
    expect(emu.control.faults()).toEqual([]);
    // The throttled keepAlives did not renew the call.
    expect(emu.control.requests({ route: 'keepAlive', status: 200 })).toHaveLength(1);
  });

  it('matches per route and per call, and `*` matches every route', async () => {
    env = await setup();
    const { emu } = env;
    const a = emu.createCall({ callbackUri: env.bot.url });
    const b = emu.createCall({ callbackUri: env.bot.url });
    emu.control.injectFault({
      route: 'getCall',
      callId: a.id.toUpperCase(),
      fault: { kind: 'status', status: 503 },
    });
    expect((await raw(callPath(emu, a.id))).status).toBe(503);
    expect((await raw(callPath(emu, a.id))).status).toBe(503);
    expect((await raw(callPath(emu, b.id))).status).toBe(200);
    expect((await raw(callPath(emu, a.id, '/keepAlive'), { method: 'POST' })).status).toBe(200);
    emu.control.clearFaults();
    const star = emu.control.injectFault({ fault: { kind: 'status', status: 504 } });
    expect((await raw(callPath(emu, b.id, '/keepAlive'), { method: 'POST' })).json.error.code).toBe(
      'gatewayTimeout',
    );
    expect(
      (await raw(callPath(emu, b.id, '/cancelMediaProcessing'), { method: 'POST', body: {} })).status,
    ).toBe(504);
    expect(emu.control.removeFault(star)).toBe(true);
    expect((await raw(callPath(emu, b.id))).status).toBe(200);
  });

  it('applies a probability fault with the seeded generator: same seed, same pattern', async () => {
    const pattern = async (seed: number) => {
      const emu = await startEmulator({ seed });
      try {
        const call = emu.createCall({ callbackUri: 'http://127.0.0.1:9/cb' });
        emu.control.injectFault({
          route: 'keepAlive',
          probability: 0.5,
          fault: { kind: 'status', status: 500 },
        });
        const out: number[] = [];
        for (let i = 0; i < 24; i++)
          out.push((await raw(callPath(emu, call.id, '/keepAlive'), { method: 'POST' })).status);
        return { out, id: call.id };
      } finally {
        await emu.close();
      }
    };
    const one = await pattern(42);
    const two = await pattern(42);
    expect(two).toEqual(one);
    expect(one.out).toContain(500);
    expect(one.out).toContain(200);
  });
});

describe('delay and reset faults', () => {
  it('holds a request on the clock for `ms`, letting the shared SimulatedClock move meanwhile', async () => {
    env = await setup();
    const { emu, clock, graph } = env;
    const call = emu.createCall({ callbackUri: env.bot.url });
    emu.control.injectFault({ route: 'keepAlive', count: 1, fault: { kind: 'delay', ms: 20_000 } });
    const t0 = clock.now();
    let answered = false;
    const p = graph.keepAlive(call.id).then(() => {
      answered = true;
    });
    await clock.advance(19_999);
    expect(answered).toBe(false);
    await clock.advance(1);
    await p;
    expect(answered).toBe(true);
    // The keepAlive counted when it was handled, after the delay.
    expect(emu.control.call(call.id)?.lastKeepAliveAt).toBe(t0 + 20_000);
  });

  it('close() ends a held request and leaves no timer behind on the shared clock', async () => {
    const s = await setup();
    const call = s.emu.createCall({
      callbackUri: s.bot.url,
      script: { caller: { kind: 'speak', seconds: 100 } },
    });
    await s.graph.record(call.id, { maxRecordDurationInSeconds: 300 });
    s.emu.control.injectFault({ route: 'keepAlive', fault: { kind: 'delay', ms: 60_000 } });
    const held = errorOf(s.graph.keepAlive(call.id));
    await s.clock.advance(10);
    expect(s.clock.pendingTimers).toBeGreaterThan(0);
    await s.emu.close();
    expect((await held)?.kind).toBe('network');
    expect(s.clock.pendingTimers).toBe(0);
    await s.http.close();
    await s.bot.close();
  });

  it('resets the connection without an answer', async () => {
    env = await setup();
    const { emu, graph } = env;
    const call = emu.createCall({ callbackUri: env.bot.url });
    emu.control.injectFault({ route: 'keepAlive', count: 1, fault: { kind: 'reset' } });
    const err = await errorOf(graph.keepAlive(call.id));
    expect(err).toBeInstanceOf(GraphError);
    expect(err?.kind).toBe('network');
    expect(emu.control.requests({ route: 'keepAlive' })[0]?.status).toBe(0);
    await graph.keepAlive(call.id);
  });

  it('accepts the flat form and rejects nonsense', async () => {
    env = await setup();
    const { control } = env.emu;
    const id = control.injectFault({ route: 'download', kind: 'status', status: 500 } as never);
    expect(control.faults()[0]).toMatchObject({
      id,
      route: 'download',
      fault: { kind: 'status', status: 500 },
    });
    expect(() => control.injectFault({ route: 'nope', fault: { kind: 'reset' } } as never)).toThrow(/route/);
    expect(() => control.injectFault({ fault: { kind: 'status', status: 200 } })).toThrow(/status/);
    expect(() => control.injectFault({ count: 1, probability: 0.5, fault: { kind: 'reset' } })).toThrow(
      /count/,
    );
  });
});

describe('notification faults', () => {
  async function recordOnce(
    script = { caller: { kind: 'speak' as const, seconds: 2, thenTone: '#' as const } },
  ) {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url, script });
    return { emu, bot, clock, graph, call };
  }

  it('drops a notification', async () => {
    const { emu, bot, clock, graph, call } = await recordOnce();
    emu.control.injectFault({
      count: 1,
      resource: 'operation',
      fault: { kind: 'notification', mode: 'drop' },
    });
    await graph.record(call.id, { stopTones: ['#'] });
    await clock.advance(10_000);
    expect(bot.received).toHaveLength(0);
    expect(emu.control.notifications()[0]).toMatchObject({
      delivery: 'dropped',
      fault: 'drop',
      resource: 'operation',
    });
    await graph.record(call.id, { stopTones: ['#'] });
    await clock.advance(10_000);
    expect(bot.items()).toHaveLength(1);
  });

  it('duplicates a notification', async () => {
    const { emu, bot, clock, graph, call } = await recordOnce();
    emu.control.injectFault({
      count: 1,
      changeType: 'deleted',
      fault: { kind: 'notification', mode: 'duplicate' },
    });
    const started = await graph.record(call.id, { stopTones: ['#'] });
    await clock.advance(10_000);
    expect(bot.items().map((n) => n.resourceData.id)).toEqual([started.operation.id, started.operation.id]);
    expect(emu.control.notifications().map((n) => [n.delivery, n.fault])).toEqual([
      ['delivered', undefined],
      ['delivered', 'duplicate'],
    ]);
  });

  it('reorders: terminated arrives before terminating', async () => {
    const { emu, bot, clock, graph, call } = await recordOnce();
    emu.control.injectFault({
      count: 1,
      changeType: 'updated',
      fault: { kind: 'notification', mode: 'reorder' },
    });
    await graph.hangUp(call.id);
    await clock.advance(0);
    expect(bot.items().map((n) => n.resourceData.state)).toEqual(['terminated', 'terminating']);
  });

  it('sends a held-back notification on its own when nothing follows it', async () => {
    const { emu, bot, clock, graph, call } = await recordOnce();
    emu.control.injectFault({
      count: 1,
      resource: 'operation',
      fault: { kind: 'notification', mode: 'reorder' },
    });
    await graph.record(call.id, { stopTones: ['#'] });
    await clock.advance(3_000);
    expect(bot.received).toHaveLength(0);
    await clock.advance(2_000);
    expect(bot.items().map((n) => n.resourceData.status)).toEqual(['completed']);
  });

  it("delivers a record's completion before the POST's response (early)", async () => {
    const { emu, bot, clock, graph, call } = await recordOnce();
    emu.control.injectFault({
      route: 'recordResponse',
      count: 1,
      fault: { kind: 'notification', mode: 'early' },
    });
    let seenAtResponse: number | undefined;
    const p = graph.record(call.id, { stopTones: ['#'], playBeep: false }).then((r) => {
      seenAtResponse = bot.received.length;
      return r;
    });
    await clock.advance(1_999);
    expect(seenAtResponse).toBeUndefined();
    await clock.advance(1);
    const started = await p;
    expect(seenAtResponse).toBe(1);
    // The POST still says what Graph said when it accepted the request.
    expect(started.operation.status).toBe('running');
    expect(bot.items()[0]?.resourceData).toMatchObject({ id: started.operation.id, status: 'completed' });
  });

  it("delivers a hang-up's termination before its 204 (early)", async () => {
    const { emu, bot, graph, call } = await recordOnce();
    emu.control.injectFault({ route: 'hangUp', fault: { kind: 'notification', mode: 'early' } });
    let seenAtResponse: number | undefined;
    await graph.hangUp(call.id).then(() => {
      seenAtResponse = bot.received.length;
    });
    expect(seenAtResponse).toBe(2);
  });
});
