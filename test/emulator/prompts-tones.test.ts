/**
 * playPrompt and subscribeToTone end to end: the client's requests over
 * loopback HTTP, the emulator's operations on the shared media queue, the
 * completion notifications under variants and faults, and key presses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PlayPromptOperationSchema } from '../../src/graph/call-resources.js';
import { callPath, raw, type Setup, setup } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const prompt = (name: string) => ({ mediaInfo: { uri: `https://cdn.contoso.com/${name}.wav` } });
const ops = (e: Setup) => e.bot.items().filter((n) => n.resourceUrl.includes('/operations/'));

describe('playPrompt', () => {
  it('200 + Location + running; `deleted` completed after the prompts played (scripted durations)', async () => {
    env = await setup();
    const { emu, bot, clock, beta } = env;
    const call = emu.createCall({
      callbackUri: bot.url,
      script: { promptSeconds: 2, promptSecondsByUri: { 'https://cdn.contoso.com/long.wav': 10 } },
    });
    const started = await beta.playPrompt(call.id, {
      prompts: [prompt('hi'), prompt('long')],
      clientContext: 'p-1',
    });
    expect(started.operation).toMatchObject({ status: 'running', clientContext: 'p-1' });
    expect(started.location).toBe(
      `${emu.betaUrl}/communications/calls/${call.id}/operations/${started.operation.id}`,
    );
    await clock.advance(11_999);
    expect(ops(env)).toHaveLength(0);
    await clock.advance(1);
    const [done] = ops(env);
    expect(done?.changeType).toBe('deleted');
    const op = PlayPromptOperationSchema.parse(done?.resourceData);
    expect(op).toMatchObject({
      id: started.operation.id,
      status: 'completed',
      completionReason: 'completedSuccessfully',
      resultInfo: { code: 200, subcode: 0 },
    });
  });

  it('queues behind a running record and in order; cancelMediaProcessing fails both with 400/8508', async () => {
    env = await setup();
    const { emu, bot, clock, beta, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    const rec = await graph.record(call.id, { maxRecordDurationInSeconds: 60 });
    const p = await beta.playPrompt(call.id, { prompts: [prompt('a')] });
    expect(p.operation.status).toBe('notStarted');
    await clock.advance(1_000);
    await graph.cancelMediaProcessing(call.id, 'stop');
    await clock.advance(0);
    const ended = ops(env).map((n) => [
      n.resourceData['@odata.type'],
      n.resourceData.status,
      n.resourceData.resultInfo.subcode,
    ]);
    expect(ended).toEqual([
      ['#microsoft.graph.recordOperation', 'failed', 8508],
      ['#microsoft.graph.playPromptOperation', 'failed', 8508],
    ]);
    expect(ops(env)[1]?.resourceData.completionReason).toBe('mediaOperationCanceled');
    expect(emu.control.call(call.id)?.operations.find((o) => o.id === rec.operation.id)?.status).toBe(
      'failed',
    );
  });

  it('loop: true never completes; only cancelMediaProcessing ends it', async () => {
    env = await setup();
    const { emu, bot, clock, beta } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    const p = await beta.playPrompt(call.id, { prompts: [prompt('music')], loop: true });
    // Half an hour (the call would expire at 45 min without a keepAlive).
    await clock.advance(30 * 60_000);
    expect(ops(env)).toHaveLength(0);
    expect((await raw(callPath(emu, call.id, `/operations/${p.operation.id}`, 'beta'))).json.status).toBe(
      'running',
    );
    await beta.cancelMediaProcessing(call.id);
    await clock.advance(0);
    expect(ops(env)[0]?.resourceData).toMatchObject({
      status: 'failed',
      resultInfo: { code: 400, subcode: 8508 },
    });
  });

  it('refuses bad bodies: loop on v1.0 (client and emulator), 0 or 21 prompts, clientContext of 257', async () => {
    env = await setup();
    const { emu, bot, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    await expect(graph.playPrompt(call.id, { prompts: [prompt('a')], loop: true })).rejects.toMatchObject({
      kind: 'invalidRequest',
      message: expect.stringContaining('loop'),
    });
    await expect(graph.playPrompt(call.id, { prompts: [] })).rejects.toMatchObject({
      kind: 'invalidRequest',
    });
    await expect(
      graph.playPrompt(call.id, { prompts: [prompt('a')], clientContext: 'x'.repeat(257) }),
    ).rejects.toMatchObject({ kind: 'invalidRequest' });
    expect(emu.control.requests()).toHaveLength(0);
    const url = callPath(emu, call.id, '/playPrompt');
    const v1 = await raw(url, { method: 'POST', body: { prompts: [prompt('a')], loop: true } });
    expect(v1.status).toBe(400);
    expect(v1.json.error.message).toContain("'loop'");
    const many = await raw(url, {
      method: 'POST',
      body: { prompts: Array.from({ length: 21 }, () => prompt('a')) },
    });
    expect(many.status).toBe(400);
  });

  it('completions follow the variants (upper-case ids, string codes, subCode) and faults (duplicate)', async () => {
    env = await setup({ variants: { upperCaseIds: true, stringCodes: true, subCode: true } });
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    emu.control.injectFault({
      resource: 'operation',
      count: 1,
      fault: { kind: 'notification', mode: 'duplicate' },
    });
    const p = await graph.playPrompt(call.id, { prompts: [prompt('a')] });
    await clock.advance(3_000);
    const [first, second] = ops(env);
    const up = (id: string) => id.replace(/-/g, '').toUpperCase();
    expect(first?.resourceUrl).toBe(`/communications/calls/${up(call.id)}/operations/${up(p.operation.id)}`);
    expect(first?.resourceData.resultInfo).toEqual({
      '@odata.type': '#microsoft.graph.resultInfo',
      code: '200',
      subCode: '0',
      message: 'Action completed successfully.',
    });
    expect(second).toEqual(first);
    expect(PlayPromptOperationSchema.parse(first?.resourceData).resultInfo).toMatchObject({
      code: 200,
      subcode: 0,
    });
  });
});

describe('subscribeToTone and key presses', () => {
  it('200 completed with no notification; then each press is a call `updated` with toneInfo', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({
      callbackUri: bot.url,
      script: {
        keys: [
          { atSeconds: 1, tone: '5' },
          { atSeconds: 4, tone: '#' },
          { atSeconds: 6, tone: 'A' },
        ],
      },
    });
    await clock.advance(2_000);
    // The '5' came before the subscription: not reported.
    const sub = await graph.subscribeToTone(call.id, { clientContext: 'tones' });
    expect(sub.operation).toMatchObject({ status: 'completed', clientContext: 'tones' });
    expect(sub.location).toContain(`/operations/${sub.operation.id}`);
    await clock.advance(0);
    expect(bot.items()).toHaveLength(0);
    await clock.advance(5_000);
    expect(bot.items().map((n) => [n.changeType, n.resourceData.state, n.resourceData.toneInfo])).toEqual([
      [
        'updated',
        'established',
        { '@odata.type': '#microsoft.graph.toneInfo', sequenceId: 1, tone: 'pound' },
      ],
      ['updated', 'established', { '@odata.type': '#microsoft.graph.toneInfo', sequenceId: 2, tone: 'a' }],
    ]);
    expect(emu.control.pressKeys(call.id, '*9')).toBe(2);
    await clock.advance(0);
    expect(
      bot
        .items()
        .slice(2)
        .map((n) => n.resourceData.toneInfo.tone),
    ).toEqual(['star', 'tone9']);
    // cancelMediaProcessing leaves the subscription alone.
    await graph.cancelMediaProcessing(call.id);
    expect(emu.control.pressKeys(call.id, ['tone1'])).toBe(1);
  });

  it('presses over the control API; refused before the answer', async () => {
    env = await setup();
    const { emu, bot, graph } = env;
    const offered = emu.ring({ callbackUri: bot.url });
    const early = await graph.subscribeToTone(offered.id).catch((e: unknown) => e);
    expect(early).toMatchObject({ status: 400 });
    const call = emu.createCall({ callbackUri: bot.url });
    await graph.subscribeToTone(call.id);
    const res = await raw(`${emu.origin}/_emulator/calls/${call.id}/keys`, {
      method: 'POST',
      token: null,
      body: { keys: '12' },
    });
    expect(res.json).toEqual({ reported: 2 });
  });
});
