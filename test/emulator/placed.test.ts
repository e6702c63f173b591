/**
 * Calls the bot places (POST /communications/calls through the Graph
 * client) against scripted callees: answers after N s, declines, never
 * answers (the ring timeout), cannot be reached.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CallerScript } from '../../src/emulator/index.js';
import { type Setup, setup } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const target = { identity: { user: { id: '112f7296-5fa4-42ca-bae8-6a692b15d4b8', displayName: 'John' } } };

async function place(script: CallerScript | undefined, beta = false, extra: Record<string, unknown> = {}) {
  env = await setup({ defaultScript: script });
  const client = beta ? env.beta : env.graph;
  const placed = await client.placeCall({ callbackUri: env.bot.url, targets: [target], ...extra });
  return { ...env, placed };
}

const seen = (e: Setup) => e.bot.items().map((n) => [n.changeType, n.resourceData.state ?? null]);

describe('placeCall against a scripted callee', () => {
  it('201 + Location + the call establishing; the callee answers after N s', async () => {
    const e = await place({ callee: { kind: 'answer', afterSeconds: 7 } });
    expect(e.placed.call).toMatchObject({ state: 'establishing', direction: 'outgoing' });
    expect(e.placed.location).toBe(`${e.emu.url}/communications/calls/${e.placed.call.id}`);
    expect(e.placed.call.targets?.[0]?.identity?.user?.displayName).toBe('John');
    await e.clock.advance(6_999);
    expect(seen(e)).toEqual([['updated', 'establishing']]);
    await e.clock.advance(1);
    expect(seen(e)).toEqual([
      ['updated', 'establishing'],
      ['updated', 'established'],
    ]);
    expect(e.bot.items()[1]?.resourceData.mediaState).toMatchObject({ audio: 'active' });
    // An established placed call keeps today's keepAlive and record behaviour.
    await e.graph.keepAlive(e.placed.call.id);
    await expect(e.graph.record(e.placed.call.id, {})).resolves.toBeDefined();
  });

  it('the callee hangs up later: terminating, then terminated 200/4521', async () => {
    const e = await place({ callee: { kind: 'answer', afterSeconds: 1, hangUpAfterSeconds: 30 } });
    await e.clock.advance(31_000);
    expect(seen(e).slice(-2)).toEqual([
      ['updated', 'terminating'],
      ['deleted', 'terminated'],
    ]);
    expect(e.bot.items().at(-1)?.resourceData.resultInfo).toMatchObject({ code: 200, subcode: 4521 });
  });

  it('declines: a `deleted` with the scripted resultInfo', async () => {
    const e = await place({ callee: { kind: 'decline', afterSeconds: 3 } });
    await e.clock.advance(3_000);
    expect(seen(e)).toEqual([
      ['updated', 'establishing'],
      ['deleted', 'terminated'],
    ]);
    expect(e.emu.control.call(e.placed.call.id)).toMatchObject({ state: 'terminated', endedBy: 'caller' });
  });

  it('never answers: 408/10057 at the default ring timeout (60 s), or at the beta ringingTimeoutInSeconds', async () => {
    const e = await place({ callee: { kind: 'noAnswer' } });
    await e.clock.advance(59_999);
    expect(seen(e)).toHaveLength(1);
    await e.clock.advance(1);
    expect(e.bot.items()[1]?.resourceData.resultInfo).toMatchObject({ code: 408, subcode: 10057 });
    await e.close();

    const b = await place({ callee: { kind: 'noAnswer' } }, true, { ringingTimeoutInSeconds: 20 });
    await b.clock.advance(20_000);
    expect(b.bot.items()[1]?.resourceData.resultInfo).toMatchObject({ code: 408, subcode: 10057 });
  });

  it('unreachable: 480/10037 right away', async () => {
    const e = await place({ callee: { kind: 'unreachable' } });
    await e.clock.advance(0);
    expect(seen(e)).toEqual([
      ['updated', 'establishing'],
      ['deleted', 'terminated'],
    ]);
    expect(e.bot.items()[1]?.resourceData.resultInfo).toMatchObject({ code: 480, subcode: 10037 });
  });

  it('a PSTN target without the bot’s applicationInstance is refused before any request', async () => {
    env = await setup();
    const err = await env.graph
      .placeCall({ callbackUri: env.bot.url, targets: [{ identity: { phone: { id: '+12345678901' } } }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'invalidRequest', code: 'invalidPlaceCallRequest' });
    expect((err as Error).message).toContain('source.identity.applicationInstance');
    expect(env.emu.control.requests()).toHaveLength(0);
  });
});
