/**
 * Offered calls end to end: emulator.ring -> signed `created` -> the bot's
 * answer, reject or redirect through the Graph client over loopback HTTP
 * (real undici adapter), all on one SimulatedClock.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ring } from '../../src/emulator/cli-ring.js';
import { CallResourceSchema } from '../../src/graph/call-resources.js';
import { GraphError } from '../../src/graph/errors.js';
import { CommsNotificationsSchema } from '../../src/graph/schemas.js';
import { createNotificationVerifier } from '../../src/notifications/index.js';
import { raw, type Setup, setup } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const states = (items: Array<Record<string, any>>) =>
  items.map((n) => [n.changeType, n.resourceData.state ?? null]);

describe('ring: an offered call', () => {
  it('posts a signed `created` with the call incoming, its parties, tenant and chain, read by the library', async () => {
    env = await setup();
    const { emu, bot, clock } = env;
    const call = emu.ring({ callbackUri: bot.url, from: '+14255550100' });
    await clock.advance(0);
    await emu.control.idle();
    const [created] = bot.items();
    expect(created).toMatchObject({
      changeType: 'created',
      resourceUrl: `/communications/calls/${call.id}`,
      resourceData: { '@odata.type': '#microsoft.graph.call', state: 'incoming', direction: 'incoming' },
    });
    expect(CommsNotificationsSchema.safeParse(bot.received[0]?.body).success).toBe(true);
    const resource = CallResourceSchema.parse(created?.resourceData);
    expect(resource.source?.identity?.phone?.id).toBe('+14255550100');
    expect(resource.targets?.[0]?.identity?.application?.id).toBe(emu.audience);
    expect(resource.tenantId).toBe(emu.tenantId);
    expect(resource.callChainId).toMatch(/^[0-9a-f-]{36}$/);
    expect(resource.mediaState?.audio).toBe('inactive');

    const verifier = createNotificationVerifier({
      appId: emu.audience,
      openIdConfigurationUrl: emu.openIdConfigurationUrl,
      clock,
    });
    await expect(verifier.verify(bot.received[0]?.headers.authorization)).resolves.toMatchObject({
      tenantId: emu.tenantId,
      appId: emu.audience,
    });
  });

  it('answer: 202, then establishing and established (with mediaState active), and keepAlive/record work', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.ring({ callbackUri: bot.url });
    await clock.advance(3_000);
    await graph.answer(call.id, { acceptedModalities: ['audio'] });
    expect(emu.control.requests({ route: 'answer' })[0]?.status).toBe(202);
    await clock.advance(0);
    const items = bot.items();
    expect(states(items)).toEqual([
      ['created', 'incoming'],
      ['updated', 'establishing'],
      ['updated', 'established'],
    ]);
    expect(items[2]?.resourceData.mediaState).toMatchObject({ audio: 'active' });
    // Past the 15-s deadline nothing ends it: it is an established call like any other.
    await clock.advance(60_000);
    expect(emu.control.call(call.id)).toMatchObject({ state: 'established', mediaAudio: 'active' });
    await graph.keepAlive(call.id);
    const rec = await graph.record(call.id, { playBeep: false });
    expect(rec.operation.status).toBe('running');
    // The answer's mediaConfig is what Graph echoes.
    expect((await graph.getCall(call.id)).mediaConfig).toMatchObject({
      '@odata.type': '#microsoft.graph.serviceHostedMediaConfig',
    });
  });

  it('establishedFirst order, a late mediaState and the answer callbackUri are scripted', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const other = await (await import('./helpers.js')).startBot({ clock });
    try {
      const call = emu.ring({
        callbackUri: bot.url,
        script: { establish: { afterSeconds: 1, order: 'establishedFirst', mediaActiveAfterSeconds: 2 } },
      });
      await clock.advance(0);
      await graph.answer(call.id, { callbackUri: other.url });
      await clock.advance(999);
      expect(other.items()).toHaveLength(0);
      await clock.advance(1);
      expect(states(other.items())).toEqual([
        ['updated', 'established'],
        ['updated', 'establishing'],
      ]);
      expect(other.items()[0]?.resourceData.mediaState).toBeUndefined();
      await clock.advance(2_000);
      expect(other.items()[2]?.resourceData).toMatchObject({
        state: 'established',
        mediaState: { audio: 'active' },
      });
      expect(bot.items()).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('the decision deadline passing ends the offer with 480/10076, at exactly 15 s', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.ring({ callbackUri: bot.url });
    await clock.advance(14_999);
    expect(bot.items()).toHaveLength(1);
    await clock.advance(1);
    const items = bot.items();
    expect(states(items)).toEqual([
      ['created', 'incoming'],
      ['deleted', 'terminated'],
    ]);
    expect(items[1]?.resourceData.resultInfo).toMatchObject({ code: 480, subcode: 10076 });
    expect(emu.control.call(call.id)).toMatchObject({ endedBy: 'offerTimeout' });
    const late = await graph.answer(call.id).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(GraphError);
    expect(late).toMatchObject({ status: 404, code: '8522' });
  });

  it('reject: 202 and a bare `deleted`; a second decision is refused', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.ring({ callbackUri: bot.url });
    await clock.advance(0);
    await graph.reject(call.id, { reason: 'busy' });
    await clock.advance(0);
    expect(bot.items()[1]).toMatchObject({
      changeType: 'deleted',
      resourceData: { '@odata.type': '#microsoft.graph.call' },
    });
    expect(bot.items()[1]?.resourceData).toEqual({
      '@odata.type': '#microsoft.graph.call',
      '@odata.id': `/communications/calls/${call.id}`,
    });
    expect(emu.control.call(call.id)).toMatchObject({ state: 'terminated', endedBy: 'bot' });

    const answered = emu.ring({ callbackUri: bot.url });
    await graph.answer(answered.id);
    const err = await graph.reject(answered.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, kind: 'http' });
    expect(emu.control.call(answered.id)?.state).toBe('established');
  });

  it('redirect: the bot leg ends with answeredBy when a target picks up, or 408/10057 after the timeout', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const target = { identity: { user: { id: '112f7296-5fa4-42ca-bae8-6a692b15d4b8' } } };
    const a = emu.ring({ callbackUri: bot.url, script: { redirect: { afterSeconds: 4 } } });
    await graph.redirect(a.id, { targets: [target, target], timeout: 20 });
    expect(emu.control.call(a.id)?.state).toBe('redirecting');
    await clock.advance(4_000);
    const ended = bot.items().find((n) => n.changeType === 'deleted');
    expect(ended?.resourceData).toMatchObject({
      id: a.id,
      direction: 'incoming',
      state: 'terminated',
      answeredBy: { identity: { encrypted: { id: expect.any(String) } } },
    });
    expect(emu.control.call(a.id)?.endedBy).toBe('redirected');

    const b = emu.ring({ callbackUri: bot.url, script: { redirect: { outcome: 'notAnswered' } } });
    await graph.redirect(b.id, { targets: [target] });
    await clock.advance(54_999);
    expect(emu.control.call(b.id)?.endedAt).toBeUndefined();
    await clock.advance(1);
    expect(emu.control.call(b.id)?.endReason).toMatchObject({ code: 408, subcode: 10057 });
  });

  it('duplicate offers and re-offers with a new call id on the same chain', async () => {
    env = await setup();
    const { emu, bot, clock } = env;
    const first = emu.ring({
      callbackUri: bot.url,
      script: { offer: { duplicate: true, decisionSeconds: 5, reoffers: 1 } },
    });
    await clock.advance(0);
    expect(states(bot.items())).toEqual([
      ['created', 'incoming'],
      ['created', 'incoming'],
    ]);
    await clock.advance(5_000);
    const calls = emu.control.calls();
    expect(calls).toHaveLength(2);
    const second = calls.find((c) => c.id !== first.id)!;
    expect(second).toMatchObject({ state: 'incoming', callChainId: calls[0]?.callChainId });
    expect(bot.items().map((n) => [n.changeType, n.resourceUrl])).toEqual([
      ['created', `/communications/calls/${first.id}`],
      ['created', `/communications/calls/${first.id}`],
      ['deleted', `/communications/calls/${first.id}`],
      ['created', `/communications/calls/${second.id}`],
      ['created', `/communications/calls/${second.id}`],
    ]);
    await clock.advance(5_000);
    // No re-offers left: the second offer just ends.
    expect(emu.control.calls().every((c) => c.state === 'terminated')).toBe(true);
  });

  it('is served over the control API too, with the answer seen in the request log', async () => {
    env = await setup();
    const { emu, bot, clock } = env;
    const res = await raw(`${emu.origin}/_emulator/ring`, {
      method: 'POST',
      token: null,
      body: { callbackUri: bot.url, from: { user: { id: 'u-1', displayName: 'Ann' } } },
    });
    expect(res.status).toBe(201);
    await clock.advance(0);
    expect(bot.items()[0]?.resourceData.source.identity.user).toMatchObject({ id: 'u-1' });
    const bad = await raw(`${emu.origin}/_emulator/ring`, {
      method: 'POST',
      token: null,
      body: { callbackUri: bot.url, script: { offer: { reoffers: 99 } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('offer.reoffers');
  });

  it('checks answer bodies as Graph does: `@odata.type` without `#`, no modalities', async () => {
    env = await setup();
    const { emu, bot } = env;
    const call = emu.ring({ callbackUri: bot.url });
    const url = `${emu.url}/communications/calls/${call.id}/answer`;
    const noHash = await raw(url, {
      method: 'POST',
      body: {
        acceptedModalities: ['audio'],
        mediaConfig: { '@odata.type': 'microsoft.graph.serviceHostedMediaConfig' },
      },
    });
    expect(noHash.status).toBe(400);
    const none = await raw(url, {
      method: 'POST',
      body: {
        acceptedModalities: [],
        mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
      },
    });
    expect(none.status).toBe(400);
    expect(none.json.error.message).toContain('acceptedModalities');
    expect(emu.control.call(call.id)?.state).toBe('incoming');
    // Media before the answer is refused.
    const early = await raw(`${emu.url}/communications/calls/${call.id}/recordResponse`, {
      method: 'POST',
      body: {},
    });
    expect(early.status).toBe(400);
  });

  it('is offered from the CLI (`ring` subcommand) through a running emulator', async () => {
    env = await setup();
    const { emu, bot, clock } = env;
    let printed = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        printed += String(chunk);
        done();
      },
    });
    const code = await ring(
      ['--emulator', emu.origin, '--callback', bot.url, '--from', '+14255550100'],
      sink as never,
      sink as never,
    );
    expect(code).toBe(0);
    const { id } = JSON.parse(printed);
    await clock.advance(0);
    expect(bot.items()[0]).toMatchObject({
      changeType: 'created',
      resourceUrl: `/communications/calls/${id}`,
    });
    expect(await ring(['--emulator', emu.origin], sink as never, sink as never)).toBe(2);
  });

  it('answer is retried only when surely not processed (503 yes, 500 no), and faults apply to it', async () => {
    env = await setup({ maxAttempts: 3 });
    const { emu, bot, clock, graph } = env;
    const a = emu.ring({ callbackUri: bot.url });
    emu.control.injectFault({
      route: 'answer',
      count: 1,
      fault: { kind: 'status', status: 503, retryAfter: '1' },
    });
    const answering = graph.answer(a.id);
    await clock.advance(1_000);
    await answering;
    expect(emu.control.requests({ route: 'answer' }).map((r) => r.status)).toEqual([503, 202]);
    const b = emu.ring({ callbackUri: bot.url });
    emu.control.injectFault({ route: 'answer', count: 1, fault: { kind: 'status', status: 500 } });
    await expect(graph.answer(b.id)).rejects.toMatchObject({ status: 500, attempts: 1 });
    // `early`: the state notifications reach the bot before the 202.
    const c = emu.ring({ callbackUri: bot.url });
    await clock.advance(0);
    emu.control.injectFault({ route: 'answer', count: 1, fault: { kind: 'notification', mode: 'early' } });
    const before = bot.items().length;
    await graph.answer(c.id);
    expect(bot.items().length - before).toBe(2);
  });

  it('faults and variants apply: a reordered establishing, a dropped offer, ids answered as the resourceUrl spells them', async () => {
    env = await setup({ variants: { upperCaseIds: true } });
    const { emu, bot, clock, graph } = env;
    const call = emu.ring({ callbackUri: bot.url });
    await clock.advance(0);
    const urlId = bot.items()[0]?.resourceUrl.split('/').at(-1);
    expect(urlId).toBe(call.id.replace(/-/g, '').toUpperCase());
    emu.control.injectFault({
      changeType: 'updated',
      resource: 'call',
      count: 1,
      fault: { kind: 'notification', mode: 'reorder' },
    });
    await graph.answer(urlId!);
    await clock.advance(0);
    expect(states(bot.items()).slice(1)).toEqual([
      ['updated', 'established'],
      ['updated', 'establishing'],
    ]);
    emu.control.injectFault({
      changeType: 'created',
      count: 1,
      fault: { kind: 'notification', mode: 'drop' },
    });
    const lost = emu.ring({ callbackUri: bot.url });
    await clock.advance(15_000);
    expect(
      bot
        .items()
        .filter((n) => n.resourceData['@odata.id']?.includes(lost.id))
        .map((n) => n.changeType),
    ).toEqual(['deleted']);
    expect(emu.control.notifications({ callId: lost.id })[0]).toMatchObject({
      changeType: 'created',
      delivery: 'dropped',
    });
  });
});
