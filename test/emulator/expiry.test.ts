import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/adapters/clock.js';
import { startEmulator } from '../../src/emulator/index.js';
import { GraphError } from '../../src/graph/errors.js';
import { callPath, raw, type Setup, setup, startBot } from './helpers.js';

const MIN = 60_000;
const WINDOW = 45 * MIN;

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function status(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof GraphError) return e.status;
    throw e;
  }
}

describe('the 45-minute keepAlive rule', () => {
  it('keeps a call alive at 44:59.999 and ends it at exactly 45:00 with 408/8537', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    const t0 = clock.now();
    await clock.advance(WINDOW - 1);
    expect((await graph.getCall(call.id)).state).toBe('established');
    expect(bot.received).toHaveLength(0);
    await clock.advance(1);
    const err = await graph.getCall(call.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, code: '8522' });
    const items = bot.items();
    expect(items.map((n) => [n.changeType, n.resourceData.state])).toEqual([
      ['updated', 'terminating'],
      ['deleted', 'terminated'],
    ]);
    expect(items[1]?.resourceData.resultInfo).toMatchObject({ code: 408, subcode: 8537 });
    expect(bot.received[0]?.at).toBe(t0 + WINDOW);
    expect(emu.control.call(call.id)).toMatchObject({ endedAt: t0 + WINDOW, endedBy: 'keepAliveTimeout' });
  });

  it('measures the window from the last successful keepAlive; every call-scoped route then answers 404 8522', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    await clock.advance(44 * MIN + 59_000);
    await graph.keepAlive(call.id);
    const renewed = clock.now();
    await clock.advance(WINDOW - 1);
    expect((await graph.getCall(call.id)).state).toBe('established');
    await clock.advance(1);
    expect(emu.control.call(call.id)?.endedAt).toBe(renewed + WINDOW);
    const gone = [
      graph.keepAlive(call.id),
      graph.getCall(call.id),
      graph.record(call.id, {}),
      graph.cancelMediaProcessing(call.id),
      graph.hangUp(call.id),
    ];
    expect(await Promise.all(gone.map(status))).toEqual([404, 404, 404, 404, 404]);
    const body = await raw(callPath(emu, call.id, '/keepAlive'), { method: 'POST' });
    expect(body.json.error).toMatchObject({ code: '8522', message: 'Call not found.' });
  });

  it('does not renew the window on a failed keepAlive', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    emu.control.injectFault({ route: 'keepAlive', count: 1, fault: { kind: 'status', status: 503 } });
    await clock.advance(30 * MIN);
    expect(await status(graph.keepAlive(call.id))).toBe(503);
    await clock.advance(15 * MIN);
    expect(await status(graph.keepAlive(call.id))).toBe(404);
  });

  it('honours keepAliveTimeoutMs', async () => {
    env = await setup({ keepAliveTimeoutMs: 10_000 });
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    await env.clock.advance(9_999);
    expect(await status(env.graph.keepAlive(call.id))).toBe(200);
    await env.clock.advance(10_000);
    expect(await status(env.graph.keepAlive(call.id))).toBe(404);
  });

  it('ends the call on the first request at the deadline even when its timer has not fired', async () => {
    // A clock whose timers never run: only the request-time check can end the call.
    let now = Date.UTC(2026, 0, 1);
    const frozen: Clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const bot = await startBot();
    const emu = await startEmulator({ clock: frozen });
    try {
      const call = emu.createCall({ callbackUri: bot.url });
      now += WINDOW - 1;
      expect((await raw(callPath(emu, call.id))).status).toBe(200);
      now += 1;
      expect((await raw(callPath(emu, call.id))).status).toBe(404);
      await emu.control.idle();
      expect(bot.items().map((n) => n.resourceData.resultInfo?.subcode ?? n.resourceData.state)).toEqual([
        'terminating',
        8537,
      ]);
    } finally {
      await emu.close();
      await bot.close();
    }
  });
});
