import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { GraphError } from '../../src/graph/errors.js';
import { callPath, raw, type Setup, setup, verifyNotificationJwt } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('auth and request ids', () => {
  it('answers 401 with a Graph-shaped error without a bearer token, and echoes client-request-id', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    const res = await raw(callPath(env.emu, call.id, '/keepAlive'), {
      method: 'POST',
      token: null,
      headers: { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' },
    });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('InvalidAuthenticationToken');
    expect(res.json.error.innerError).toMatchObject({
      'client-request-id': 'c0ffee00-0000-4000-8000-000000000001',
      'request-id': res.headers['request-id'],
    });
    expect(res.json.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(res.headers['client-request-id']).toBe('c0ffee00-0000-4000-8000-000000000001');
    expect(res.headers.date).toBe(new Date(env.clock.now()).toUTCString());
    // The unauthenticated keepAlive did not count.
    expect(env.emu.control.call(call.id)?.lastKeepAliveAt).toBeUndefined();
    expect(env.emu.control.requests({ route: 'keepAlive' })[0]?.status).toBe(401);
  });

  it('checks the app token when one is configured (exact value or predicate)', async () => {
    const emu = await startEmulator({ appToken: 'right' });
    const pred = await startEmulator({ appToken: (t) => t.startsWith('ok-') });
    try {
      const a = emu.createCall({ callbackUri: 'http://127.0.0.1:9/cb' });
      expect((await raw(callPath(emu, a.id, '/keepAlive'), { method: 'POST', token: 'wrong' })).status).toBe(
        401,
      );
      expect((await raw(callPath(emu, a.id, '/keepAlive'), { method: 'POST', token: 'right' })).status).toBe(
        200,
      );
      const b = pred.createCall({ callbackUri: 'http://127.0.0.1:9/cb' });
      expect((await raw(callPath(pred, b.id, '/keepAlive'), { method: 'POST', token: 'no' })).status).toBe(
        401,
      );
      expect((await raw(callPath(pred, b.id, '/keepAlive'), { method: 'POST', token: 'ok-1' })).status).toBe(
        200,
      );
    } finally {
      await emu.close();
      await pred.close();
    }
  });

  it('never logs the Authorization value', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    await raw(callPath(env.emu, call.id, '/keepAlive'), { method: 'POST', token: 'SECRET-TOKEN-123' });
    expect(JSON.stringify(env.emu.control.requests())).not.toContain('SECRET-TOKEN-123');
  });
});

describe('call lifecycle', () => {
  it('creates an outgoing call: 201 + Location, then signed establishing/established notifications', async () => {
    env = await setup();
    const { emu, bot, clock } = env;
    const res = await raw(`${emu.url}/communications/calls`, {
      method: 'POST',
      body: {
        '@odata.type': '#microsoft.graph.call',
        callbackUri: bot.url,
        requestedModalities: ['audio'],
        mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
        targets: [{ identity: { user: { id: 'u1' } } }],
      },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ '@odata.type': '#microsoft.graph.call', state: 'establishing' });
    const id: string = res.json.id;
    expect(res.headers.location).toBe(`${emu.url}/communications/calls/${id}`);
    await clock.advance(0);
    expect(bot.items().map((n) => [n.changeType, n.resourceUrl, n.resourceData.state])).toEqual([
      ['updated', `/communications/calls/${id}`, 'establishing'],
      ['updated', `/communications/calls/${id}`, 'established'],
    ]);
    const { payload, protectedHeader } = await verifyNotificationJwt(
      emu,
      bot.received[0]?.headers.authorization,
      clock,
    );
    expect(payload).toMatchObject({
      iss: 'https://api.botframework.com',
      aud: emu.audience,
      tid: emu.tenantId,
    });
    expect(payload.iat).toBe(Math.floor(clock.now() / 1000));
    expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
    expect(protectedHeader.alg).toBe('RS256');
    expect((await env.graph.getCall(id)).state).toBe('established');
  });

  it('rejects a create without callbackUri with a 400 naming it', async () => {
    env = await setup();
    const res = await raw(`${env.emu.url}/communications/calls`, { method: 'POST', body: { targets: [] } });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('callbackUri');
  });

  it('hangs up: 204, terminating then terminated 200/7000, and 404 8522 afterwards', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({ callbackUri: bot.url });
    await graph.hangUp(call.id);
    await clock.advance(0);
    const items = bot.items();
    expect(items.map((n) => [n.changeType, n.resourceData.state])).toEqual([
      ['updated', 'terminating'],
      ['deleted', 'terminated'],
    ]);
    expect(items[1]?.resourceData.resultInfo).toMatchObject({ code: 200, subcode: 7000 });
    const err = await graph.getCall(call.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ status: 404, code: '8522' });
    expect(emu.control.call(call.id)).toMatchObject({ state: 'terminated', endedBy: 'bot' });
  });

  it('keepAlive answers 200 with an empty body, for any spelling of the id', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    const upper = call.id.replace(/-/g, '').toUpperCase();
    const res = await raw(callPath(env.emu, upper, '/keepAlive'), { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['content-length']).toBe('0');
    expect(env.emu.control.call(call.id)?.lastKeepAliveAt).toBe(env.clock.now());
    expect(env.emu.control.requests({ route: 'keepAlive' })[0]?.callId).toBe(call.id);
  });

  it('accepts a given call id in any spelling and reports it canonical', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url, id: '57DAB8B1894C409AB240BD8BEAE78896' });
    expect(call.id).toBe('57dab8b1-894c-409a-b240-bd8beae78896');
    expect(() => env!.emu.createCall({ callbackUri: env!.bot.url, id: 'not-a-guid' })).toThrow(/GUID/);
  });
});

describe('routes per version', () => {
  it('serves record on beta only, recordResponse on both', async () => {
    env = await setup();
    const { emu } = env;
    const call = emu.createCall({ callbackUri: env.bot.url });
    expect((await raw(callPath(emu, call.id, '/record'), { method: 'POST', body: {} })).status).toBe(404);
    expect((await raw(callPath(emu, call.id, '/record', 'beta'), { method: 'POST', body: {} })).status).toBe(
      200,
    );
    expect(
      (await raw(callPath(emu, call.id, '/recordResponse', 'beta'), { method: 'POST', body: {} })).status,
    ).toBe(200);
    expect((await raw(callPath(emu, call.id, '/recordResponse'), { method: 'POST', body: {} })).status).toBe(
      200,
    );
    expect(emu.control.requests({ status: 200 }).map((r) => r.route)).toEqual([
      'record',
      'recordResponse',
      'recordResponse',
    ]);
  });

  it('answers 405 for a wrong method and 404 for an unknown path', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    expect((await raw(callPath(env.emu, call.id, '/keepAlive'))).status).toBe(405);
    expect((await raw(`${env.emu.url}/communications/nothing`)).status).toBe(404);
    expect((await raw(`${env.emu.origin}/v2/whatever`)).status).toBe(404);
  });

  it('returns record and operation bodies with Location, and the operation as it evolves', async () => {
    env = await setup();
    const { emu, beta, clock } = env;
    const call = emu.createCall({ callbackUri: env.bot.url });
    const started = await beta.record(call.id, { clientContext: 'ctx-1' });
    expect(started.operation).toMatchObject({
      status: 'running',
      recordingLocation: null,
      clientContext: 'ctx-1',
    });
    expect(started.location).toBe(
      `${emu.betaUrl}/communications/calls/${call.id}/operations/${started.operation.id}`,
    );
    const opUrl = callPath(emu, call.id, `/operations/${started.operation.id}`);
    expect((await raw(opUrl)).json).toMatchObject({ status: 'running' });
    await clock.advance(60_000);
    const done = (await raw(opUrl)).json;
    expect(done).toMatchObject({ status: 'completed', '@odata.type': '#microsoft.graph.recordOperation' });
    // v1.0's schema has no completionReason; beta keeps it.
    expect(done).not.toHaveProperty('completionReason');
    // The default caller speaks 3 s; with 5 s of allowed silence the 5-s maximum comes first.
    expect(
      (await raw(callPath(emu, call.id, `/operations/${started.operation.id}`, 'beta'))).json
        .completionReason,
    ).toBe('maxRecordDurationReached');
    expect(
      (await raw(callPath(emu, call.id, '/operations/00000000-0000-4000-8000-000000000000'))).status,
    ).toBe(404);
    // v1.0 recordResponse leaves completionReason out of the POST body too.
    const v1 = await raw(callPath(emu, call.id, '/recordResponse'), { method: 'POST', body: {} });
    expect(v1.json).toMatchObject({ status: 'running' });
    expect(v1.json).not.toHaveProperty('completionReason');
  });
});
