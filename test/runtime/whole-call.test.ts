/**
 * The README's bot, end to end: offers answered, rejected and redirected by
 * `onIncomingCall`, a greeting prompt, key presses, a recording, and a placed
 * call nobody answers, against the emulator over loopback (real undici
 * adapter, notification JWTs validated) on simulated time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingCall } from '../../src/options/calls.js';
import type { ToneEvent } from '../../src/runtime/context.js';
import { RuntimeError } from '../../src/runtime/types.js';
import { type Bench, bench, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const GREETING = 'https://bot.example/greeting.wav';
const operator = {
  identity: { user: { id: '5810cede-b7a8-4b5c-9d1e-2a3b4c5d6e7f', displayName: 'Operator' } },
};

describe('the whole call through createCallRuntime', () => {
  it('answers, plays a greeting, reads key presses, records; rejects busy; redirects; reports an unanswered placed call', async () => {
    const offers: IncomingCall[] = [];
    let answered = 0;
    b = await bench({
      emulator: { defaultScript: { callee: { kind: 'noAnswer' } } },
      runtime: {
        onIncomingCall: (call) => {
          offers.push(call);
          if (offers.length === 2) return { reject: 'busy' };
          if (offers.length === 3) return { redirect: { targets: [operator], timeout: 20 } };
          answered++;
          return { answer: {} };
        },
      },
    });
    const { emulator, runtime, clock, callbackUri } = b;
    const tones: ToneEvent[] = [];
    runtime.tones$.subscribe((t) => tones.push(t));

    const first = emulator.ring({ callbackUri, from: '+14255550100' });
    await clock.advance(1 * SEC);
    await runtime.whenEstablished(first.id);
    expect(offers[0]).toMatchObject({
      callId: first.id,
      tenantId: emulator.tenantId,
      policyBasedRecording: false,
      caller: { identity: { phone: { id: '+14255550100' } } },
    });

    const greeting = runtime.playPrompt(first.id, [GREETING]);
    void runtime.subscribeToTones(first.id);
    await clock.advance(10 * SEC);
    await expect(greeting).resolves.toMatchObject({ final: 'completed' });
    emulator.control.pressKeys(first.id, '1#');
    await clock.advance(1 * SEC);
    expect(tones.map((t) => [t.callId, t.tone])).toEqual([
      [first.id, 'tone1'],
      [first.id, 'pound'],
    ]);

    const recorded = runtime.record(first.id, { maxRecordDurationInSeconds: 10 }, (clip) => clip.bytes);
    await clock.advance(30 * SEC);
    const result = await recorded;
    expect(result).toMatchObject({ ok: true, outcome: 'processed', localCopy: 'deleted' });
    const hungUp = runtime.hangUp(first.id);
    await clock.advance(1 * SEC);
    await expect(hungUp).resolves.toMatchObject({ reason: 'hungUp' });

    const second = emulator.ring({ callbackUri, from: '+14255550101' });
    await clock.advance(1 * SEC);
    await expect(runtime.whenEnded(second.id)).resolves.toMatchObject({ reason: 'rejected' });
    expect(b.requests('reject', second.id)).toEqual([[expect.any(Number), 202]]);

    const third = emulator.ring({ callbackUri, from: '+14255550102' });
    await clock.advance(1 * SEC);
    await expect(runtime.whenEnded(third.id)).resolves.toMatchObject({ reason: 'redirected' });

    const placing = runtime.placeCall({ targets: [operator] });
    await clock.advance(1 * SEC);
    const placedId = await placing;
    const established = runtime.whenEstablished(placedId).catch((e: unknown) => e);
    const ended = runtime.whenEnded(placedId);
    await clock.advance(120 * SEC);
    const err = await established;
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).output).toMatchObject({ reason: 'notAnswered' });
    await expect(ended).resolves.toMatchObject({
      callId: placedId,
      reason: 'notAnswered',
      resultInfo: { code: 408, subcode: 10057 },
    });
    expect(answered).toBe(1);
    expect(runtime.stats().rejectedNotifications).toBe(0);
  });

  it("the README's bot (Answer incoming calls) as written: decisions, greeting, tones, record, hang-up", async () => {
    let busy = false;
    const afterHours = () => false;
    const operatorId = operator.identity.user.id;
    b = await bench({
      runtime: {
        onIncomingCall: async (call) => {
          if (busy) return { reject: 'busy' };
          if (afterHours())
            return { redirect: { targets: [{ identity: { user: { id: operatorId } } }], timeout: 20 } };
          busy = call.callId !== '';
          return { answer: { preFetchMedia: ['https://bot.example/greeting.wav'] } };
        },
      },
    });
    const { runtime, emulator, clock, callbackUri } = b;
    const pressed: string[] = [];
    const played: string[] = [];
    const clips: number[] = [];
    const handleClip = (clip: { bytes: number }) => clips.push(clip.bytes);
    runtime.tones$.subscribe(({ callId, tone }) => pressed.push(`${callId}:${tone}`));
    runtime.events$.subscribe(async (e) => {
      if (e.type !== 'call.established') return;
      const prompt = await runtime.playPrompt(e.callId, ['https://bot.example/greeting.wav']);
      played.push(prompt.final);
      await runtime.subscribeToTones(e.callId);
      await runtime.record(e.callId, { maxRecordDurationInSeconds: 60 }, handleClip);
      await runtime.hangUp(e.callId);
    });

    const first = emulator.ring({
      callbackUri,
      script: { keys: [{ atSeconds: 8, tone: '5' }], caller: { kind: 'speak', seconds: 4 } },
    });
    await clock.advance(1 * SEC);
    const second = emulator.ring({ callbackUri });
    await clock.advance(120 * SEC);
    expect(played).toEqual(['completed']);
    expect(pressed).toEqual([`${first.id}:tone5`]);
    expect(clips).toHaveLength(1);
    await expect(runtime.whenEnded(first.id)).resolves.toMatchObject({ reason: 'hungUp' });
    await expect(runtime.whenEnded(second.id)).resolves.toMatchObject({ reason: 'rejected' });
    expect(b.requests('answer')).toHaveLength(1);
  });
});
