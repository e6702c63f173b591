/**
 * The call API refuses bad input with an OptionsError naming the path, before
 * any request: prompt counts, clientContext length, redirect bounds, placed
 * call targets, decisions; and a prompt on a call that is not up is refused.
 */
import { afterEach, expect, it } from 'vitest';
import { checkDecision } from '../../src/options/calls.js';
import { OptionsError } from '../../src/options/error.js';
import { RuntimeError } from '../../src/runtime/types.js';
import { type Bench, bench } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const WAV = 'https://bot.example/a.wav';
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OptionsError);
  return (err as OptionsError).path;
};

it('playPrompt: 1..20 prompts, clientContext <= 256, loop boolean; nothing is sent', async () => {
  b = await bench({ verifyNotifications: false, runtime: { log: false } });
  const callId = b.call();
  expect(await refusal(b.runtime.playPrompt(callId, []))).toBe('prompts');
  expect(await refusal(b.runtime.playPrompt(callId, Array(21).fill(WAV)))).toBe('prompts');
  expect(await refusal(b.runtime.playPrompt(callId, ['not a url']))).toBe('prompts[0]');
  expect(await refusal(b.runtime.playPrompt(callId, [WAV], { clientContext: 'x'.repeat(257) }))).toBe(
    'options.clientContext',
  );
  expect(await refusal(b.runtime.playPrompt(callId, [WAV], { loop: 'yes' as never }))).toBe('options.loop');
  expect(b.requests('playPrompt')).toEqual([]);
  const ok = b.runtime.playPrompt(callId, Array(20).fill({ uri: WAV }), { clientContext: 'x'.repeat(256) });
  await b.clock.advance(120_000);
  await expect(ok).resolves.toMatchObject({ final: 'completed' });
});

it('placeCall: targets 1..5, a PSTN target needs source and tenantId; answer/reject reasons checked', async () => {
  b = await bench({ verifyNotifications: false, runtime: { log: false } });
  const user = { identity: { user: { id: 'u1' } } };
  expect(await refusal(b.runtime.placeCall({ targets: [] }))).toBe('options.targets');
  expect(await refusal(b.runtime.placeCall({ targets: Array(6).fill(user) }))).toBe('options.targets');
  const pstn = { identity: { phone: { id: '+14255550100' } } };
  expect(await refusal(b.runtime.placeCall({ targets: [pstn] }))).toBe('options.source');
  const source = { identity: { applicationInstance: { id: 'bot-instance' } } };
  expect(await refusal(b.runtime.placeCall({ targets: [pstn], source }))).toBe('options.tenantId');
  expect(await refusal(b.runtime.placeCall({ targets: [user], policy: { ringTimeoutMs: -1 } }))).toMatch(
    /ringTimeoutMs/,
  );
  expect(await refusal(b.runtime.reject('c1', 'maybe' as never))).toBe('reason');
  expect(b.requests('placeCall')).toEqual([]);
  expect(b.requests('reject')).toEqual([]);
});

it('a decision is checked field by field', () => {
  const path = (d: unknown) => {
    try {
      checkDecision(d);
      return 'ok';
    } catch (err) {
      return (err as OptionsError).path;
    }
  };
  expect(path({ answer: {} })).toBe('ok');
  expect(path({ reject: 'busy' })).toBe('ok');
  expect(path(undefined)).toBe('result');
  expect(path({ answer: {}, reject: 'busy' })).toBe('result');
  expect(path({ reject: 'later' })).toBe('result.reject');
  expect(path({ redirect: { targets: [{ identity: { user: { id: 'u' } } }], timeout: 91 } })).toBe(
    'result.redirect.timeout',
  );
});

it('a prompt on a call that is not up is refused (RuntimeError promptRejected)', async () => {
  b = await bench({ verifyNotifications: false, runtime: { log: false } });
  const callId = b.call();
  const ended = b.runtime.hangUp(callId);
  const err = await b.runtime.playPrompt(callId, [WAV]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RuntimeError);
  expect((err as RuntimeError).code).toBe('promptRejected');
  await b.clock.advance(1_000);
  await ended;
});
