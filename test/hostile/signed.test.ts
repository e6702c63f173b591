/**
 * Issue 8, hostile input with JWT validation on (the harness default): valid
 * bodies that would end the tracked call or complete its record, carrying
 * tokens minted with foreign keys (any kid, alg, issuer, audience, tenant,
 * lifetime), tampered copies of a genuine emulator token, and junk headers.
 * Every one gets 401 and changes nothing; a flood of unknown kids costs at most
 * one JWKS refetch; no log line quotes a token. A genuine token is accepted.
 * With the key endpoint down and no keys cached, nothing gets through at all.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { type CryptoKey, exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import { staticToken } from '../../src/adapters/token.js';
import { createCallRuntime, type LogEntry } from '../../src/runtime.js';
import { startKeyServer } from '../notifications/fixtures.js';
import { callEnded, envelope, recordCompleted } from './bodies.js';
import { fingerprint, recordingTarget, settle, type Target, watchProcess } from './kit.js';

const SCALE = Math.max(1, Number(process.env.HOSTILE_RUNS ?? 1) || 1);
const JSON_HEADERS = { 'content-type': 'application/json' };

let t: Target;
let watch: ReturnType<typeof watchProcess>;
const logs: LogEntry[] = [];
let stateChanges = 0;
/** Bodies that would end the call or complete its record if they were let in. */
let dangerous: string[];
/** A notification token the emulator really signed (captured from a call of our own). */
let genuine: string;
let emulatorKid: string;
let emulatorPublicPem: string;
const foreign: Record<'RS256' | 'PS256' | 'ES256', CryptoKey> = {} as never;
/** Every token text sent, to look for in the logs afterwards. */
const sent = new Set<string>();

/** A server that keeps the Authorization header of every notification posted to it. */
async function captureServer() {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    if (req.headers.authorization) seen.push(req.headers.authorization);
    req.resume();
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback` };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

beforeAll(async () => {
  watch = watchProcess();
  t = await recordingTarget({ runtime: { log: (e) => logs.push(e) } });
  t.h.runtime.states$.subscribe(() => stateChanges++);
  const capture = await captureServer();
  const other = t.h.emulator.createCall({ callbackUri: capture.url });
  t.h.emulator.control.hangUpByCaller(other.id);
  await t.h.emulator.control.idle();
  await closeServer(capture.server);
  genuine = capture.seen[0]?.replace(/^Bearer\s+/i, '') ?? '';
  expect(genuine.split('.')).toHaveLength(3);
  const jwks = (await (await request(`${t.h.emulator.origin}/v1/keys`)).body.json()) as { keys: JWK[] };
  const jwk = jwks.keys[0] as JWK;
  emulatorKid = jwk.kid as string;
  emulatorPublicPem = await exportSPKI((await importJWK(jwk, 'RS256')) as CryptoKey);
  for (const alg of ['RS256', 'PS256', 'ES256'] as const)
    foreign[alg] = (await generateKeyPair(alg)).privateKey;
  const completion = recordCompleted({
    callId: t.callId,
    operationId: t.operationId,
    clientContext: t.clientContext,
    recordingLocation: `${t.h.emulator.origin}/_media/recordings/${t.operationId}`,
    recordingAccessToken: 'attacker-chosen-token',
  });
  dangerous = [
    JSON.stringify(envelope(callEnded(t.callId))),
    JSON.stringify(envelope(completion)),
    JSON.stringify(envelope(completion, callEnded(t.callId.replace(/-/g, '').toUpperCase()))),
  ];
});

afterAll(async () => {
  await t?.h.close();
  watch?.dispose();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const segments = (token: string) => token.split('.') as [string, string, string];
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

/** Claims a forger picks: right or wrong issuer, audience and tenant, any lifetime. */
const claimsArb = fc.record({
  iss: fc.oneof(fc.constant('emulator'), fc.constant('https://graph.microsoft.com'), fc.webUrl()),
  aud: fc.oneof(fc.constant('emulator'), fc.string({ maxLength: 20 })),
  tid: fc.oneof(fc.constant('emulator'), fc.uuid(), fc.constant(undefined)),
  iatOffset: fc.integer({ min: -7200, max: 600 }),
  life: fc.integer({ min: -600, max: 7200 }),
});

/** A token signed with a key that is not the emulator's. */
const foreignToken = fc
  .record({
    alg: fc.constantFrom('RS256', 'PS256', 'ES256') as fc.Arbitrary<'RS256' | 'PS256' | 'ES256'>,
    kid: fc.oneof(
      fc.constant('emulator'),
      fc.string({ minLength: 1, maxLength: 24 }),
      fc.constant(undefined),
    ),
    claims: claimsArb,
  })
  .map((spec) => async () => {
    const now = Math.floor(t.h.clock.now() / 1000);
    const c = spec.claims;
    const payload: Record<string, unknown> = {
      iss: c.iss === 'emulator' ? t.h.emulator.issuer : c.iss,
      aud: c.aud === 'emulator' ? t.h.emulator.audience : c.aud,
      ...(c.tid === undefined ? {} : { tid: c.tid === 'emulator' ? t.h.emulator.tenantId : c.tid }),
      iat: now + c.iatOffset,
      nbf: now + c.iatOffset,
      exp: now + c.iatOffset + c.life,
    };
    const kid = spec.kid === 'emulator' ? emulatorKid : spec.kid;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: spec.alg, typ: 'JWT', ...(kid === undefined ? {} : { kid }) })
      .sign(foreign[spec.alg]);
  });

/** The genuine token, altered: payload swapped, signature cut or reused, header rewritten. */
const tamperedGenuine = fc
  .oneof(
    fc
      .record({ tid: fc.uuid(), aud: fc.constantFrom('emulator', 'someone-else') })
      .map(({ tid, aud }) => () => {
        const [h, p, s] = segments(genuine);
        const claims = { ...decode(p), tid, ...(aud === 'emulator' ? {} : { aud }) };
        return `${h}.${b64(claims)}.${s}`;
      }),
    fc.constant(() => {
      const [h, p] = segments(genuine);
      return `${h}.${p}.`;
    }),
    fc.integer({ min: 1, max: 40 }).map((n) => () => genuine.slice(0, -n)),
    fc.constantFrom('none', 'HS256', 'RS384', 'PS256').map((alg) => () => {
      const [h, p, s] = segments(genuine);
      return `${b64({ ...decode(h), alg })}.${p}.${alg === 'none' ? '' : s}`;
    }),
    fc.string({ minLength: 1, maxLength: 16 }).map((kid) => () => {
      const [h, p, s] = segments(genuine);
      return `${b64({ ...decode(h), kid })}.${p}.${s}`;
    }),
    // HS256 keyed with the emulator's public key: the classic algorithm-confusion forgery.
    fc.constant(async () => {
      const [, p] = segments(genuine);
      return new SignJWT(decode(p))
        .setProtectedHeader({ alg: 'HS256', kid: emulatorKid })
        .sign(new TextEncoder().encode(emulatorPublicPem));
    }),
  )
  .map((make) => async () => make());

/** Authorization headers that are not a bearer JWT at all. */
const junkAuthorization = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
  fc
    .array(fc.base64String({ maxLength: 40 }), { minLength: 1, maxLength: 5 })
    .map((parts) => `Bearer ${parts.join('.')}`),
  fc.constant(`Basic ${Buffer.from('user:pass').toString('base64')}`),
);

type Authorization = () => Promise<string | undefined>;
const authorizationArb: fc.Arbitrary<Authorization> = fc.oneof(
  { weight: 3, arbitrary: foreignToken.map((make) => async () => `Bearer ${await make()}`) },
  { weight: 2, arbitrary: tamperedGenuine.map((make) => async () => `Bearer ${await make()}`) },
  { weight: 1, arbitrary: junkAuthorization.map((h) => async () => h) },
  { weight: 1, arbitrary: fc.constant(async () => undefined) },
);

/** About a call nobody tracks: accepted or not, it changes nothing. */
const harmless = () => JSON.stringify(envelope(callEnded('00000000-0000-0000-0000-000000000001')));
const authorized = (token: string) => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });

function headersWith(authorization: string | undefined): Record<string, string> {
  if (authorization) sent.add(authorization.replace(/^\S+\s*/, ''));
  return authorization === undefined ? JSON_HEADERS : { ...JSON_HEADERS, authorization };
}

async function unchangedBy(
  numRuns: number,
  send: (body: string, auth: string | undefined) => Promise<number>,
) {
  const before = fingerprint(t);
  const changes = stateChanges;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...dangerous), authorizationArb, async (body, makeAuth) => {
      expect(await send(body, await makeAuth())).toBe(401);
      await settle(t.h);
      expect(fingerprint(t)).toBe(before);
      expect(stateChanges).toBe(changes);
    }),
    { numRuns: numRuns * SCALE },
  );
}

describe('signed notifications under attack', () => {
  it('forged, tampered and junk tokens on bodies that would end the call: 401, nothing changes', async () => {
    // Keys cached first (a genuine token on a harmless body), so every later fetch is a refresh.
    expect(await t.h.runtime.handleNotification(harmless(), authorized(genuine))).toEqual({ status: 202 });
    const jwksBefore = t.h.emulator.control.requests({ route: 'jwks' }).length;
    await unchangedBy(300, async (body, auth) => {
      const res = await t.h.runtime.handleNotification(body, headersWith(auth));
      return res.status;
    });
    // Hundreds of unknown kids within the cooldown: one refetch at most.
    expect(t.h.emulator.control.requests({ route: 'jwks' }).length).toBeLessThanOrEqual(jwksBefore + 1);
  });

  it('the same through the bot server over loopback HTTP', async () => {
    await unchangedBy(60, async (body, auth) => {
      const res = await request(t.h.callbackUri, { method: 'POST', headers: headersWith(auth), body });
      await res.body.dump();
      return res.statusCode;
    });
  });

  it('no log line quotes a token; a genuine token is accepted', async () => {
    expect(sent.size).toBeGreaterThan(100);
    const text = JSON.stringify(logs);
    expect(logs.some((e) => e.msg === 'notification rejected')).toBe(true);
    for (const token of sent) if (token.length >= 12) expect(text).not.toContain(token);
    expect(text).not.toMatch(/eyJ[\w-]{8,}\.[\w-]{8,}/);
    // The control: the same verifier still lets the emulator's own token in.
    expect(await t.h.runtime.handleNotification(harmless(), authorized(genuine))).toEqual({ status: 202 });
    expect(watch.seen).toEqual([]);
  });
});

describe('key endpoint down, no keys cached', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('nothing gets through, not even a genuine token: 401 keyFetchFailed, the call untouched', async () => {
    const keys = await startKeyServer([]);
    keys.failing = true;
    cleanup.push(() => keys.close());
    const runtime = createCallRuntime({
      clock: t.h.clock,
      token: staticToken('test-app-token'),
      graphUrl: t.h.emulator.url,
      store: createMemoryRecordingStore(),
      notificationAuth: {
        appId: t.h.emulator.audience,
        openIdConfigurationUrl: keys.openIdUrl,
        issuers: [t.h.emulator.issuer],
      },
    });
    cleanup.push(() => runtime.stop());
    const call = t.h.emulator.createCall({ callbackUri: 'http://127.0.0.1:9/unused' });
    runtime.track(call.id);
    const before = JSON.stringify(runtime.get(call.id)?.getPersistedSnapshot());
    const bodies = [JSON.stringify(envelope(callEnded(call.id)))];
    const codes = new Set<string | undefined>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bodies),
        fc.oneof(
          fc.constant(async () => `Bearer ${genuine}`),
          foreignToken.map((make) => async () => `Bearer ${await make()}`),
        ),
        async (body, makeAuth) => {
          const pending = runtime.handleNotification(body, headersWith(await makeAuth()));
          // A failed key GET is retried once, after a backoff on the runtime's clock: let it pass.
          await t.h.clock.advance(1000);
          const res = await pending;
          expect(res.status).toBe(401);
          codes.add(res.code);
          await new Promise<void>((resolve) => setImmediate(resolve));
          expect(JSON.stringify(runtime.get(call.id)?.getPersistedSnapshot())).toBe(before);
        },
      ),
      { numRuns: 40 * SCALE },
    );
    // Refused for want of keys (or, for junk, before any key was needed); never a pass.
    expect(codes.has('keyFetchFailed')).toBe(true);
    expect(keys.hits.config).toBeGreaterThan(0);
  });
});
