import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { CURRENT_SERVICE_LIMITS, type RecordLimits, SPEC_LIMITS } from '../../src/graph/limits.js';
import { callPath, raw } from './helpers.js';

const FIELDS = [
  'initialSilenceTimeoutInSeconds',
  'maxSilenceTimeoutInSeconds',
  'maxRecordDurationInSeconds',
] as const;

describe.each([
  ['spec (300 s)', SPEC_LIMITS],
  ['current service (120 s)', CURRENT_SERVICE_LIMITS],
] as Array<[string, RecordLimits]>)('record validation with the %s limits', (_name, limits) => {
  let emu: Emulator;
  let callId: string;
  beforeAll(async () => {
    emu = await startEmulator({ limits });
    callId = emu.createCall({ callbackUri: 'http://127.0.0.1:9/unreachable' }).id;
  });
  afterAll(() => emu.close());

  const post = (body: unknown, route = '/recordResponse', version: 'v1.0' | 'beta' = 'v1.0') =>
    raw(callPath(emu, callId, route, version), { method: 'POST', body });

  it.each(FIELDS)(
    'accepts %s at the bound and rejects one above it or 0, naming the field',
    async (field) => {
      expect((await post({ [field]: limits.maxSeconds })).status).toBe(200);
      for (const bad of [limits.maxSeconds + 1, 0, 1.5, '10']) {
        const res = await post({ [field]: bad });
        expect(res.status).toBe(400);
        expect(res.json.error.code).toBe('BadRequest');
        expect(res.json.error.message).toContain(field);
        expect(res.json.error.innerError['request-id']).toBe(res.headers['request-id']);
      }
    },
  );

  it('validates beta record exactly like recordResponse', async () => {
    const res = await post({ maxRecordDurationInSeconds: limits.maxSeconds + 1 }, '/record', 'beta');
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('maxRecordDurationInSeconds');
  });

  it('rejects more than one prompt, a long clientContext, a bad stop tone, an unknown field', async () => {
    const prompt = { mediaInfo: { uri: 'https://bot.example/p.wav' } };
    const cases: Array<[unknown, string]> = [
      [{ prompts: [prompt, prompt] }, 'prompts'],
      [{ clientContext: 'x'.repeat(limits.maxClientContext + 1) }, 'clientContext'],
      [{ stopTones: ['X'] }, 'stopTones'],
      [{ playBeep: 'yes' }, 'playBeep'],
      [{ recordingFormat: 'wav' }, 'recordingFormat'],
      [{ prompts: [{ mediaInfo: { uri: 'not a url' } }] }, 'prompts'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status, field).toBe(400);
      expect(res.json.error.message).toContain(field);
    }
    expect(
      (await post({ prompts: [prompt], clientContext: 'x'.repeat(limits.maxClientContext) })).status,
    ).toBe(200);
  });

  it('treats an empty body as all defaults and rejects one that is not JSON', async () => {
    expect((await raw(callPath(emu, callId, '/recordResponse'), { method: 'POST' })).status).toBe(200);
    const bad = await request(callPath(emu, callId, '/recordResponse'), {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: { message: string } }).error.message).toMatch(/JSON/);
  });
});
