import { afterEach, describe, expect, it } from 'vitest';
import type { CallerScript } from '../../src/emulator/index.js';
import { planRecord } from '../../src/emulator/index.js';
import { BYTES_PER_SECOND, WAV_HEADER_BYTES } from '../../src/emulator/wav.js';
import { recordOptionsSchema } from '../../src/graph/schemas.js';
import { callPath, raw, type Setup, setup } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const PROMPT = [{ mediaInfo: { uri: 'https://bot.example/prompt.wav' } }];
const opts = (o: Record<string, unknown> = {}) => recordOptionsSchema().parse(o);

describe('planRecord (pure)', () => {
  it('starts the caller after prompt and beep', () => {
    const plan = planRecord(
      { kind: 'speak', seconds: 2, thenTone: '#' },
      opts({ prompts: PROMPT, stopTones: ['#'] }),
      {
        promptSeconds: 4,
        beepSeconds: 0.5,
      },
    );
    expect(plan.leadMs).toBe(4_500);
    expect(plan.endAfterMs).toBe(6_500);
    expect(plan.outcome).toMatchObject({
      status: 'completed',
      completionReason: 'stopToneDetected',
      recordedSeconds: 2,
    });
    expect(plan.speechAt(5_500)).toBe(1);
  });

  it('has no lead without prompt and beep', () => {
    const plan = planRecord(
      { kind: 'silent' },
      opts({ playBeep: false, initialSilenceTimeoutInSeconds: 7, maxRecordDurationInSeconds: 60 }),
    );
    expect(plan.leadMs).toBe(0);
    expect(plan.endAfterMs).toBe(7_000);
    expect(plan.outcome?.completionReason).toBe('initialSilenceTimeout');
  });

  it('lets the first timer win when maxRecordDuration is shorter than the silence allowed', () => {
    const plan = planRecord(
      { kind: 'speak', seconds: 3 },
      opts({ playBeep: false, maxSilenceTimeoutInSeconds: 10, maxRecordDurationInSeconds: 8 }),
    );
    expect(plan.endAfterMs).toBe(8_000);
    expect(plan.outcome).toMatchObject({ completionReason: 'maxRecordDurationReached', recordedSeconds: 3 });
  });

  it('ends at the hang-up when it comes before any timer, with or without a completion', () => {
    const o = opts({ playBeep: false, maxRecordDurationInSeconds: 60, maxSilenceTimeoutInSeconds: 30 });
    const complete = planRecord({ kind: 'hangUp', afterSeconds: 4, mode: 'complete' }, o);
    expect(complete).toMatchObject({ endAfterMs: 4_000, hangUpAfterMs: 4_000 });
    expect(complete.outcome).toMatchObject({ status: 'completed', recordedSeconds: 4 });
    const silent = planRecord({ kind: 'hangUp', afterSeconds: 4, mode: 'silent' }, o);
    expect(silent.outcome).toBeUndefined();
    expect(silent.hangUpAfterMs).toBe(4_000);
  });
});

/** Record once on a call with `script`; returns what the bot saw once the clock has run far enough. */
async function recordWith(script: CallerScript, options: Record<string, unknown>, runMs = 10 * 60_000) {
  env = await setup();
  const { emu, bot, clock, beta } = env;
  const call = emu.createCall({ callbackUri: bot.url, script });
  const t0 = clock.now();
  const started = await beta.record(call.id, options);
  await clock.advance(runMs);
  const arrivals = bot.received.flatMap((r) => r.body.value.map((n) => ({ at: r.at - t0, n })));
  const completion = arrivals.find((a) => a.n.resourceUrl.includes('/operations/'));
  return { call, started, arrivals, completion, op: completion?.n.resourceData };
}

describe('caller scripts over HTTP', () => {
  it('speaks, presses a stop tone: stopToneDetected after prompt + beep + speech, with a WAV of the speech', async () => {
    const r = await recordWith(
      { promptSeconds: 3, caller: { kind: 'speak', seconds: 6, thenTone: '#' } },
      { prompts: PROMPT, stopTones: ['#'], maxRecordDurationInSeconds: 60 },
    );
    expect(r.completion?.at).toBe(10_000);
    expect(r.completion?.n.changeType).toBe('deleted');
    expect(r.op).toMatchObject({
      status: 'completed',
      completionReason: 'stopToneDetected',
      resultInfo: { code: 200 },
    });
    expect(r.op.recordingLocation).toMatch(new RegExp(`^${env!.emu.origin}/_media/recordings/`));
    expect(r.op.recordingAccessToken).toMatch(/^[\w-]{32,}$/);
    expect(env!.emu.control.call(r.call.id)?.recordings[0]).toMatchObject({
      seconds: 6,
      bytes: WAV_HEADER_BYTES + 6 * BYTES_PER_SECOND,
    });
  });

  it('ignores a tone that is not a stop tone and records to the maximum (200/8515)', async () => {
    const r = await recordWith(
      { caller: { kind: 'speak', seconds: 6, thenTone: '5' } },
      { stopTones: ['#'], maxRecordDurationInSeconds: 20 },
    );
    expect(r.completion?.at).toBe(21_000);
    expect(r.op).toMatchObject({
      status: 'completed',
      completionReason: 'maxRecordDurationReached',
      resultInfo: { code: 200, subcode: 8515 },
    });
  });

  it('stays silent: initialSilenceTimeout, failed, no recording', async () => {
    const r = await recordWith(
      { caller: { kind: 'silent' } },
      { initialSilenceTimeoutInSeconds: 8, maxRecordDurationInSeconds: 60 },
    );
    expect(r.completion?.at).toBe(9_000);
    expect(r.op).toMatchObject({
      status: 'failed',
      completionReason: 'initialSilenceTimeout',
      recordingLocation: null,
    });
    expect(env!.emu.control.call(r.call.id)?.recordings).toEqual([]);
  });

  it('talks past the maximum: maxRecordDurationReached at the maximum, clip as long as the maximum', async () => {
    const r = await recordWith(
      { caller: { kind: 'speak', seconds: 500 } },
      { maxRecordDurationInSeconds: 30 },
    );
    expect(r.completion?.at).toBe(31_000);
    expect(r.op).toMatchObject({
      completionReason: 'maxRecordDurationReached',
      resultInfo: { subcode: 8515 },
    });
    expect(env!.emu.control.call(r.call.id)?.recordings[0]?.seconds).toBe(30);
  });

  it('speaks then pauses: maxSilenceTimeout after the pause, completed with the speech', async () => {
    const r = await recordWith(
      { caller: { kind: 'speak', seconds: 4 } },
      { maxSilenceTimeoutInSeconds: 3, maxRecordDurationInSeconds: 60 },
    );
    expect(r.completion?.at).toBe(8_000);
    expect(r.op).toMatchObject({ status: 'completed', completionReason: 'maxSilenceTimeout' });
    expect(env!.emu.control.call(r.call.id)?.recordings[0]?.seconds).toBe(4);
  });

  it("hangs up (mode 'complete'): the record completes with what was said, then the call ends 200/5001", async () => {
    const r = await recordWith(
      { caller: { kind: 'hangUp', afterSeconds: 5, mode: 'complete' } },
      { maxRecordDurationInSeconds: 60, maxSilenceTimeoutInSeconds: 10 },
    );
    expect(
      r.arrivals.map((a) => [a.at, a.n.changeType, a.n.resourceData.state ?? a.n.resourceData.status]),
    ).toEqual([
      [6_000, 'deleted', 'completed'],
      [6_000, 'updated', 'terminating'],
      [6_000, 'deleted', 'terminated'],
    ]);
    expect(r.arrivals[2]?.n.resourceData.resultInfo).toMatchObject({ code: 200, subcode: 5001 });
    expect(env!.emu.control.call(r.call.id)).toMatchObject({
      endedBy: 'caller',
      recordings: [{ seconds: 5 }],
    });
  });

  it("hangs up (mode 'silent'): the call ends and no completion ever comes (issue #376)", async () => {
    const r = await recordWith(
      { caller: { kind: 'hangUp', afterSeconds: 5, mode: 'silent' } },
      { maxRecordDurationInSeconds: 60 },
      3600_000,
    );
    expect(r.completion).toBeUndefined();
    expect(r.arrivals.map((a) => [a.at, a.n.resourceData.state])).toEqual([
      [6_000, 'terminating'],
      [6_000, 'terminated'],
    ]);
    const op = await raw(callPath(env!.emu, r.call.id, `/operations/${r.started.operation.id}`));
    expect(op.json.error.code).toBe('8522');
  });

  it('hangs up later than the record ended on its own: both happen, each at its time', async () => {
    const r = await recordWith(
      { caller: { kind: 'hangUp', afterSeconds: 20, speechSeconds: 2, mode: 'complete' } },
      { maxSilenceTimeoutInSeconds: 3, maxRecordDurationInSeconds: 60 },
    );
    expect(
      r.arrivals.map((a) => [a.at, a.n.resourceData.completionReason ?? a.n.resourceData.state]),
    ).toEqual([
      [6_000, 'maxSilenceTimeout'],
      [21_000, 'terminating'],
      [21_000, 'terminated'],
    ]);
  });
});

describe('records and the end of the call', () => {
  it("completes a running record with the speech so far when the bot hangs up (onCallEnd 'complete')", async () => {
    env = await setup();
    const { emu, bot, clock, beta } = env;
    const call = emu.createCall({
      callbackUri: bot.url,
      script: { caller: { kind: 'speak', seconds: 100 } },
    });
    await beta.record(call.id, { maxRecordDurationInSeconds: 200 });
    await clock.advance(11_000); // 1 s beep + 10 s of speech
    await beta.hangUp(call.id);
    await clock.advance(0);
    const op = bot.items()[0];
    expect(op?.resourceData).toMatchObject({ status: 'completed', completionReason: 'none' });
    expect(emu.control.call(call.id)?.recordings[0]?.seconds).toBe(10);
    expect(bot.items().map((n) => n.resourceData.state ?? 'op')).toEqual(['op', 'terminating', 'terminated']);
  });

  it("sends nothing for a running record when the call ends and the script says onCallEnd 'silent'", async () => {
    env = await setup();
    const { emu, bot, clock, beta } = env;
    const call = emu.createCall({
      callbackUri: bot.url,
      script: { onCallEnd: 'silent', caller: { kind: 'speak', seconds: 100 } },
    });
    await beta.record(call.id, { maxRecordDurationInSeconds: 200 });
    await clock.advance(5_000);
    emu.control.hangUpByCaller(call.id);
    await clock.advance(600_000);
    expect(bot.items().map((n) => n.resourceData.state)).toEqual(['terminating', 'terminated']);
  });

  it('plays one action per record request, the last repeating', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({
      callbackUri: bot.url,
      script: { caller: [{ kind: 'silent' }, { kind: 'speak', seconds: 1, thenTone: '#' }] },
    });
    for (let i = 0; i < 3; i++) {
      await graph.record(call.id, { stopTones: ['#'] });
      await clock.advance(60_000);
    }
    expect(bot.items().map((n) => n.resourceData.completionReason)).toEqual([
      'initialSilenceTimeout',
      'stopToneDetected',
      'stopToneDetected',
    ]);
  });

  it('queues a second record behind the running one (notStarted), and bargeInAllowed pre-empts', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({
      callbackUri: bot.url,
      script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } },
    });
    const first = await graph.record(call.id, { stopTones: ['#'], playBeep: false });
    const second = await graph.record(call.id, { stopTones: ['#'], playBeep: false });
    expect(first.operation.status).toBe('running');
    expect(second.operation.status).toBe('notStarted');
    await clock.advance(2_000);
    await clock.advance(2_000);
    expect(bot.items().map((n) => [n.resourceData.id, n.resourceData.completionReason])).toEqual([
      [first.operation.id, 'stopToneDetected'],
      [second.operation.id, 'stopToneDetected'],
    ]);
    const third = await graph.record(call.id, { stopTones: ['#'], playBeep: false });
    const barging = await graph.record(call.id, { stopTones: ['#'], playBeep: false, bargeInAllowed: true });
    expect(barging.operation.status).toBe('running');
    await clock.advance(2_000);
    expect(
      bot
        .items()
        .slice(2)
        .map((n) => [n.resourceData.id, n.resourceData.completionReason]),
    ).toEqual([
      [third.operation.id, 'operationCanceled'],
      [barging.operation.id, 'stopToneDetected'],
    ]);
  });
});
