/**
 * Notification authentication end to end: the emulator signs with its own key
 * and publishes it through its OpenID configuration; the bot verifies for
 * real (harness default). Forged, expired and wrong-audience tokens get 401
 * and change no state, through the bot's server and through handleNotification.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type Bench, bench, MIN } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

/** A Graph-shaped "the call is over" notification: what an attacker would like to send. */
function terminatedBody(callId: string) {
  return JSON.stringify({
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: [
      {
        '@odata.type': '#microsoft.graph.commsNotification',
        changeType: 'deleted',
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          id: callId,
          state: 'terminated',
          resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
        },
      },
    ],
  });
}

async function emulatorKid(b: Bench): Promise<string> {
  const res = await request(`${b.emulator.origin}/v1/keys`);
  const jwks = (await res.body.json()) as { keys: Array<{ kid: string }> };
  return jwks.keys[0]!.kid;
}

let forgerKey: ReturnType<typeof generateKeyPair> | undefined;

/** A well-formed token signed with a key that is not the emulator's. */
async function forge(b: Bench, claims: { kid: string; aud?: string; expSeconds?: number }) {
  forgerKey ??= generateKeyPair('RS256');
  const { privateKey } = await forgerKey;
  const now = Math.floor(b.clock.now() / 1000);
  return new SignJWT({ tid: b.emulator.tenantId })
    .setProtectedHeader({ alg: 'RS256', kid: claims.kid, typ: 'JWT' })
    .setIssuer(b.emulator.issuer)
    .setAudience(claims.aud ?? b.emulator.audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (claims.expSeconds ?? 3600))
    .sign(privateKey);
}

async function postToBot(b: Bench, body: string, authorization?: string) {
  const res = await request(b.callbackUri, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body,
  });
  await res.body.dump();
  return res.statusCode;
}

/** The call is untouched: still active in the bot, established in the emulator, keepAlives on time. */
async function expectUntouched(b: Bench, id: string) {
  await b.clock.advance(16 * MIN);
  expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  expect(b.eventsOf(id, 'call.ended')).toEqual([]);
  expect(b.requests('keepAlive', id)).toEqual([[15 * MIN, 200]]);
  expect(b.emulator.control.call(id)?.state).toBe('established');
}

describe('signed notifications', () => {
  it("accepted: the emulator's signed terminated notification ends the call", async () => {
    b = await bench();
    const id = b.call();
    const ended = b.runtime.whenEnded(id);
    b.emulator.control.hangUpByCaller(id);
    await b.clock.advance(MIN);
    expect(await ended).toEqual({
      callId: id,
      reason: 'terminated',
      endedAt: b.t0,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    });
    const notes = b.emulator.control.notifications({ callId: id });
    expect(notes.map((n) => [n.state, n.httpStatus, n.delivery])).toEqual([
      ['terminating', 202, 'delivered'],
      ['terminated', 202, 'delivered'],
    ]);
    expect(b.runtime.stats()).toMatchObject({ rejectedNotifications: 0, routed: 1 });
    // The bot fetched the emulator's OpenID configuration and JWKS to verify.
    expect(b.emulator.control.requests({ route: 'openIdConfiguration' })).toHaveLength(1);
    expect(b.emulator.control.requests({ route: 'jwks' })).toHaveLength(1);
  });
});

describe('rejected notifications change no state', () => {
  it('forged with another key under the emulator kid: 401 (bot server and handleNotification)', async () => {
    b = await bench();
    const id = b.call();
    const token = await forge(b, { kid: await emulatorKid(b) });
    expect(await postToBot(b, terminatedBody(id), `Bearer ${token}`)).toBe(401);
    expect(
      await b.runtime.handleNotification(terminatedBody(id), {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      }),
    ).toMatchObject({ status: 401, code: 'badSignature' });
    await expectUntouched(b, id);
    expect(b.runtime.stats()).toMatchObject({ rejectedNotifications: 2, routed: 0 });
    expect(b.notifications).toEqual([]);
  });

  it('forged with an unknown kid: 401 after one JWKS refresh', async () => {
    b = await bench();
    const id = b.call();
    const token = await forge(b, { kid: 'not-a-key-of-graph' });
    const r = await b.runtime.handleNotification(terminatedBody(id), { authorization: `Bearer ${token}` });
    expect(r).toMatchObject({ status: 401, code: 'unknownKey' });
    await expectUntouched(b, id);
  });

  it('no token, or not a JWT: 401', async () => {
    b = await bench();
    const id = b.call();
    expect(await postToBot(b, terminatedBody(id))).toBe(401);
    expect(await postToBot(b, terminatedBody(id), 'Bearer not.a.jwt')).toBe(401);
    await expectUntouched(b, id);
  });

  it('expired: a real token of the emulator replayed two hours later: 401', async () => {
    b = await bench();
    const id = b.call();
    const other = b.call();
    const auths: string[] = [];
    b.bot.on('request', (req) => {
      if (req.headers.authorization) auths.push(req.headers.authorization);
    });
    // The other call's caller hangs up: two genuinely signed notifications arrive.
    b.emulator.control.hangUpByCaller(other);
    await b.clock.advance(MIN);
    expect(auths).toHaveLength(2);
    const real = auths[0]!;
    // Fresh, the token passes (a notification for an unknown call is counted and ignored).
    expect(await b.runtime.handleNotification(terminatedBody(other), { authorization: real })).toEqual({
      status: 202,
    });
    // Tokens live an hour; verification allows 5 minutes of skew.
    await b.clock.advance(2 * 60 * MIN);
    expect(await postToBot(b, terminatedBody(id), real)).toBe(401);
    expect(await b.runtime.handleNotification(terminatedBody(id), { authorization: real })).toMatchObject({
      status: 401,
      code: 'expired',
    });
    await b.clock.advance(MIN);
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    expect(b.requests('keepAlive', id).map(([t]) => t)).toEqual(
      [15, 30, 45, 60, 75, 90, 105, 120].map((m) => m * MIN),
    );
  });

  it('wrong audience: the bot expects another app id, so every real notification is refused 401', async () => {
    b = await bench({ notificationAppId: 'another-bot-app-id' });
    const id = b.call();
    const auths: string[] = [];
    b.bot.on('request', (req) => {
      if (req.headers.authorization) auths.push(req.headers.authorization);
    });
    b.emulator.control.hangUpByCaller(id);
    await b.clock.advance(MIN);
    expect(await b.runtime.handleNotification(terminatedBody(id), { authorization: auths[0] })).toMatchObject(
      {
        status: 401,
        code: 'wrongAudience',
      },
    );
    // Graph does not retry a 401; the bot never heard the call end...
    const notes = b.emulator.control.notifications({ callId: id });
    expect(notes.map((n) => [n.state, n.httpStatus, n.delivery])).toEqual([
      ['terminating', 401, 'failed'],
      ['terminated', 401, 'failed'],
    ]);
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
    expect(b.runtime.stats()).toMatchObject({ rejectedNotifications: 3, routed: 0 });
    // ...so it learns it from the next keepAlive.
    const ended = b.runtime.whenEnded(id);
    await b.clock.advance(15 * MIN);
    expect(await ended).toEqual({ callId: id, reason: 'notFound', endedAt: b.t0 + 15 * MIN });
  });

  it('a forged token for another audience: 401 wrongAudience is never reached without a valid signature', async () => {
    b = await bench();
    const id = b.call();
    const token = await forge(b, { kid: await emulatorKid(b), aud: 'someone-else' });
    const r = await b.runtime.handleNotification(terminatedBody(id), { authorization: `Bearer ${token}` });
    // Signature first: a forged token says nothing trustworthy about its audience.
    expect(r).toMatchObject({ status: 401, code: 'badSignature' });
    await expectUntouched(b, id);
  });
});
