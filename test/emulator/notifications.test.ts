import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/adapters/clock.js';
import type { Variants } from '../../src/emulator/index.js';
import { CommsNotificationsSchema } from '../../src/graph/schemas.js';
import { type Setup, setup, verifyNotificationJwt } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

/** A call whose caller presses '#' after 2 s and then hangs up 'complete' at 2 s: completion + end together. */
async function completionAndEnd(variants: Partial<Variants>, where: 'call' | 'global' = 'call') {
  env = await setup(where === 'global' ? { variants } : {});
  const { emu, bot, clock, graph } = env;
  const call = emu.createCall({
    callbackUri: bot.url,
    script: { caller: { kind: 'hangUp', afterSeconds: 2, mode: 'complete' } },
    ...(where === 'call' ? { variants } : {}),
  });
  const started = await graph.record(call.id, { playBeep: false });
  await clock.advance(5_000);
  for (const r of bot.received) expect(CommsNotificationsSchema.safeParse(r.body).success).toBe(true);
  return { call, opId: started.operation.id, bodies: bot.received.map((r) => r.body), items: bot.items() };
}

describe('notification field variants', () => {
  it('sends the documented shape by default', async () => {
    const { call, opId, items, bodies } = await completionAndEnd({});
    expect(bodies[0]?.['@odata.type']).toBe('#microsoft.graph.commsNotifications');
    expect(items[0]).toEqual({
      '@odata.type': '#microsoft.graph.commsNotification',
      changeType: 'deleted',
      resourceUrl: `/communications/calls/${call.id}/operations/${opId}`,
      resourceData: expect.objectContaining({
        '@odata.type': '#microsoft.graph.recordOperation',
        id: opId,
        status: 'completed',
        resultInfo: expect.objectContaining({ code: 200, subcode: 0 }),
        recordingLocation: expect.stringContaining('/_media/recordings/'),
        recordingAccessToken: expect.any(String),
        completionReason: 'none',
      }),
    });
    expect(bodies).toHaveLength(3);
  });

  it('upperCaseIds: upper-case dash-less ids in resourceUrl, hyphenated id in resourceData', async () => {
    const { call, opId, items } = await completionAndEnd({ upperCaseIds: true });
    const up = (id: string) => id.replace(/-/g, '').toUpperCase();
    expect(items[0]?.resourceUrl).toBe(`/communications/calls/${up(call.id)}/operations/${up(opId)}`);
    expect(items[0]?.resourceData.id).toBe(opId);
  });

  it('arrayResourceData: resourceData is a one-element array', async () => {
    const { items } = await completionAndEnd({ arrayResourceData: true });
    expect(Array.isArray(items[0]?.resourceData)).toBe(true);
    expect(items[0]?.resourceData[0].status).toBe('completed');
  });

  it("legacyResource: the /app/calls resource beside resourceUrl, or ('only') instead of it", async () => {
    const beside = await completionAndEnd({ legacyResource: true });
    expect(beside.items[2]).toMatchObject({
      resourceUrl: `/communications/calls/${beside.call.id}`,
      resource: `/app/calls/${beside.call.id}`,
    });
    await env?.close();
    const only = await completionAndEnd({ legacyResource: 'only' });
    expect(only.items[2]?.resource).toBe(`/app/calls/${only.call.id}`);
    expect(only.items[2]).not.toHaveProperty('resourceUrl');
  });

  it('stringCodes and capitalisedStatus', async () => {
    const { items } = await completionAndEnd({ stringCodes: true, capitalisedStatus: true });
    expect(items[0]?.resourceData.status).toBe('Completed');
    expect(items[0]?.resourceData.resultInfo).toMatchObject({ code: '200', subcode: '0' });
    expect(items[2]?.resourceData.resultInfo).toMatchObject({ code: '200', subcode: '5001' });
  });

  it('legacyRecordingFields and omitCompletionReason', async () => {
    const { items } = await completionAndEnd({ legacyRecordingFields: true, omitCompletionReason: true });
    const data = items[0]?.resourceData;
    expect(data.recordResourceLocation).toContain('/_media/recordings/');
    expect(data.recordResourceAccessToken).toEqual(expect.any(String));
    expect(data).not.toHaveProperty('recordingLocation');
    expect(data).not.toHaveProperty('completionReason');
  });

  it('batch: the completion and the end of the call share one POST', async () => {
    const { bodies } = await completionAndEnd({ batch: true }, 'global');
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.value.map((n) => n.resourceData.state ?? n.resourceData.status)).toEqual([
      'completed',
      'terminating',
      'terminated',
    ]);
    expect(env!.emu.control.notifications().map((n) => n.batchSize)).toEqual([3, 3, 3]);
  });

  it('applies variants set at run time, per call over global', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const a = emu.createCall({ callbackUri: bot.url });
    const b = emu.createCall({ callbackUri: bot.url });
    emu.control.setVariants({ upperCaseIds: true });
    emu.control.setVariants({ upperCaseIds: false, stringCodes: true }, b.id);
    await graph.hangUp(a.id);
    await graph.hangUp(b.id);
    await clock.advance(0);
    const urls = bot.items().map((n) => n.resourceUrl as string);
    expect(urls.filter((u) => u.includes(a.id.replace(/-/g, '').toUpperCase()))).toHaveLength(2);
    expect(urls.filter((u) => u.includes(b.id))).toHaveLength(2);
    expect(() => emu.control.setVariants({ upperCaseIds: 'yes' } as never)).toThrow(/upperCaseIds/);
  });
});

describe('delivery', () => {
  it('retries on the clock after the bot answers 500 once', async () => {
    env = await setup({ botStatus: (n) => (n === 0 ? 500 : 202) });
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    await graph.hangUp(call.id);
    await clock.advance(0);
    expect(bot.received.map((r) => r.status)).toEqual([500]);
    expect(emu.control.notifications()[0]).toMatchObject({
      delivery: 'pending',
      attempts: 1,
      httpStatus: 500,
    });
    await clock.advance(1_000);
    // The retry first, then the notification queued behind it: order per call is kept.
    expect(bot.received.map((r) => [r.status, r.body.value[0]?.resourceData.state])).toEqual([
      [500, 'terminating'],
      [202, 'terminating'],
      [202, 'terminated'],
    ]);
    expect(emu.control.notifications()[0]).toMatchObject({
      delivery: 'delivered',
      attempts: 2,
      httpStatus: 202,
    });
    expect(bot.received[1]?.at).toBe(bot.received[0]!.at + 1_000);
  });

  it('gives up after notificationRetries with growing waits when the bot is unreachable, and never retries a 4xx', async () => {
    env = await setup({ notificationRetries: 2 });
    const { emu, clock, graph } = env;
    const gone = emu.createCall({ callbackUri: 'http://127.0.0.1:9/nobody' });
    await graph.hangUp(gone.id);
    await clock.advance(0);
    expect(emu.control.notifications({ callId: gone.id })[0]?.attempts).toBe(1);
    await clock.advance(1_000);
    expect(emu.control.notifications({ callId: gone.id })[0]?.attempts).toBe(2);
    await clock.advance(2_000);
    expect(emu.control.notifications({ callId: gone.id })[0]).toMatchObject({
      attempts: 3,
      delivery: 'failed',
    });
    await env.close();

    env = await setup({ botStatus: () => 403 });
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    await env.graph.hangUp(call.id);
    await env.clock.advance(60_000);
    expect(env.bot.received.map((r) => r.status)).toEqual([403, 403]);
    expect(env.emu.control.notifications().map((n) => [n.delivery, n.attempts])).toEqual([
      ['failed', 1],
      ['failed', 1],
    ]);
  });

  it('reuses one JWT for a while, signs a new one before it expires, and each verifies at its time', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const a = emu.createCall({ callbackUri: bot.url });
    const b = emu.createCall({ callbackUri: bot.url });
    const c = emu.createCall({ callbackUri: bot.url });
    await graph.hangUp(a.id);
    await clock.advance(30 * 60_000);
    await graph.keepAlive(c.id);
    await graph.hangUp(b.id);
    await clock.advance(28 * 60_000); // 58 min: the first token expires at 60, so a new one is signed
    await graph.hangUp(c.id);
    await clock.advance(0);
    const auth = bot.received.map((r) => r.headers.authorization);
    expect(auth[0]).toBe(auth[2]);
    expect(auth[4]).not.toBe(auth[0]);
    const first = await verifyNotificationJwt(emu, auth[0], { now: () => bot.received[0]!.at } as Clock);
    const last = await verifyNotificationJwt(emu, auth[4], clock);
    expect(last.payload.iat! - first.payload.iat!).toBe(58 * 60);
    // The first token is no longer valid when the last one is sent.
    await expect(
      verifyNotificationJwt(emu, auth[0], { now: () => clock.now() + 3 * 60_000 } as Clock),
    ).rejects.toThrow(/exp/);
    expect(bot.received[0]?.headers['content-type']).toBe('application/json');
    expect(bot.received[0]?.headers['user-agent']).toContain('Microsoft-Skype');
  });
});
