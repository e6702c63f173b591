import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { callPath, raw, type Setup, setup } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const ctl = (s: Setup, path: string, method = 'GET', body?: unknown) =>
  raw(`${s.emu.origin}/_emulator${path}`, { method, body, token: null });

describe('control API over HTTP', () => {
  it('creates a call, scripts it, advances the clock, and reports requests and notifications', async () => {
    env = await setup();
    const created = await ctl(env, '/calls', 'POST', { callbackUri: env.bot.url });
    expect(created.status).toBe(201);
    const id: string = created.json.id;
    expect(created.json).toMatchObject({
      callbackUri: env.bot.url,
      url: `${env.emu.url}/communications/calls/${id}`,
    });
    const script = { caller: { kind: 'speak', seconds: 4, thenTone: '#' } };
    expect((await ctl(env, `/calls/${id}/script`, 'PUT', script)).status).toBe(200);
    await raw(callPath(env.emu, id, '/recordResponse'), { method: 'POST', body: { stopTones: ['#'] } });
    const advanced = await ctl(env, '/clock/advance', 'POST', { ms: 5_000 });
    expect(advanced.json.now).toBe(env.clock.now());
    const notes = await ctl(env, `/notifications?callId=${id}`);
    expect(notes.json).toMatchObject([
      { changeType: 'deleted', completionReason: 'stopToneDetected', delivery: 'delivered' },
    ]);
    expect(JSON.stringify(notes.json)).not.toContain('recordingAccessToken');
    const reqs = await ctl(env, '/requests?route=recordResponse');
    expect(reqs.json).toMatchObject([{ method: 'POST', route: 'recordResponse', status: 200, callId: id }]);
    // Control calls are not in the request log.
    expect(
      (await ctl(env, '/requests')).json.every((r: { path: string }) => !r.path.startsWith('/_emulator')),
    ).toBe(true);
    const calls = await ctl(env, '/calls');
    expect(calls.json).toMatchObject([{ id, state: 'established', recordings: [{ seconds: 4 }] }]);
    expect((await ctl(env, `/calls/${id}`)).json.id).toBe(id);
  });

  it('injects, lists and removes faults', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    const added = await ctl(env, '/faults', 'POST', {
      route: 'keepAlive',
      count: 1,
      kind: 'status',
      status: 429,
      retryAfter: 3,
    });
    expect(added.status).toBe(201);
    expect((await ctl(env, '/faults')).json).toMatchObject([{ id: added.json.id, remaining: 1 }]);
    const hit = await raw(callPath(env.emu, call.id, '/keepAlive'), { method: 'POST' });
    expect([hit.status, hit.headers['retry-after']]).toEqual([429, '3']);
    const again = await ctl(env, '/faults', 'POST', { fault: { kind: 'status', status: 500 } });
    expect((await ctl(env, `/faults/${again.json.id}`, 'DELETE')).status).toBe(204);
    expect((await ctl(env, `/faults/${again.json.id}`, 'DELETE')).status).toBe(404);
    await ctl(env, '/faults', 'POST', { fault: { kind: 'status', status: 500 } });
    expect((await ctl(env, '/faults', 'DELETE')).status).toBe(204);
    expect((await raw(callPath(env.emu, call.id, '/keepAlive'), { method: 'POST' })).status).toBe(200);
  });

  it('hangs up as the caller, silently or not, and resets', async () => {
    env = await setup();
    const a = env.emu.createCall({ callbackUri: env.bot.url });
    const b = env.emu.createCall({ callbackUri: env.bot.url });
    expect((await ctl(env, `/calls/${a.id}/hangup`, 'POST', { silent: true })).json).toEqual({ ended: true });
    expect((await ctl(env, `/calls/${a.id}/hangup`, 'POST', {})).json).toEqual({ ended: false });
    expect((await ctl(env, `/calls/${b.id}/hangup`, 'POST', { resultInfo: { subcode: 4521 } })).status).toBe(
      200,
    );
    await env.clock.advance(0);
    expect(env.bot.items().map((n) => n.resourceData.resultInfo?.subcode ?? n.resourceData.state)).toEqual([
      'terminating',
      4521,
    ]);
    expect((await raw(callPath(env.emu, a.id, '/keepAlive'), { method: 'POST' })).json.error.code).toBe(
      '8522',
    );
    expect((await ctl(env, '/reset', 'POST')).status).toBe(204);
    expect((await ctl(env, '/calls')).json).toEqual([]);
    expect((await ctl(env, '/requests')).json).toEqual([]);
  });

  it('sets the default script and variants', async () => {
    env = await setup();
    expect((await ctl(env, '/script', 'PUT', { caller: { kind: 'silent' } })).status).toBe(200);
    expect((await ctl(env, '/variants', 'PUT', { capitalisedStatus: true })).status).toBe(200);
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    await env.graph.record(call.id, { maxRecordDurationInSeconds: 60 });
    await env.clock.advance(60_000);
    expect(env.bot.items()[0]?.resourceData).toMatchObject({
      status: 'Failed',
      completionReason: 'initialSilenceTimeout',
    });
  });

  it('answers 400 with a clear message for invalid input, 404 for unknown things', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    const bad = async (path: string, method: string, body: unknown, pattern: RegExp) => {
      const res = await ctl(env!, path, method, body);
      expect(res.status, path).toBe(400);
      expect(res.json.error.message).toMatch(pattern);
    };
    await bad('/calls', 'POST', {}, /callbackUri/);
    await bad(`/calls/${call.id}/script`, 'PUT', { caller: { kind: 'speak' } }, /caller.seconds/);
    await bad(`/calls/${call.id}/script`, 'PUT', { caller: { kind: 'hangUp', afterSeconds: 3 } }, /mode/);
    await bad(
      `/calls/${call.id}/script`,
      'PUT',
      { caller: { kind: 'speak', seconds: 1, thenTone: 'Z' } },
      /thenTone/,
    );
    await bad('/faults', 'POST', { route: 'keepAlive', fault: { kind: 'delay' } }, /fault.ms/);
    await bad('/clock/advance', 'POST', { ms: -1 }, /ms/);
    await bad(`/calls/${call.id}/hangup`, 'POST', { silent: 'yes' }, /silent/);
    await bad('/requests?status=abc', 'GET', undefined, /status/);
    const notJson = await raw(`${env.emu.origin}/_emulator/faults`, {
      method: 'POST',
      token: null,
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect((await ctl(env, '/calls/00000000-0000-4000-8000-000000000000/script', 'PUT', {})).status).toBe(
      404,
    );
    expect((await ctl(env, '/nothing')).status).toBe(404);
  });

  it('refuses clock/advance when the emulator runs on the wall clock', async () => {
    const emu = await startEmulator();
    try {
      const res = await raw(`${emu.origin}/_emulator/clock/advance`, {
        method: 'POST',
        body: { ms: 10 },
        token: null,
      });
      expect(res.status).toBe(409);
      expect(res.json.error.message).toMatch(/SimulatedClock/);
      expect(() => emu.control.advance(10)).toThrow(/SimulatedClock/);
    } finally {
      await emu.close();
    }
  });
});
