/**
 * Notification token verification against a real loopback OpenID
 * configuration + JWKS, on simulated time.
 */
import { exportSPKI, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { NotificationError } from '../../src/notifications/errors.js';
import {
  createNotificationVerifier,
  type NotificationVerifier,
  type VerifierOptions,
} from '../../src/notifications/index.js';
import {
  APP_ID,
  ISSUER,
  type KeyServer,
  makeKey,
  signToken,
  startKeyServer,
  TENANT,
  type TestKey,
  unsignedToken,
} from './fixtures.js';

let main: TestKey; // published as kid k1
let impostor: TestKey; // a different key pair
let rotated: TestKey; // published later as kid k2

beforeAll(async () => {
  [main, impostor, rotated] = await Promise.all([makeKey('k1'), makeKey('k1'), makeKey('k2')]);
});

let server: KeyServer;
let clock: SimulatedClock;
/** Every rejection seen, to check afterwards that none quotes its token. */
const rejections: Array<{ token: string; err: NotificationError }> = [];

beforeEach(async () => {
  server = await startKeyServer([main.jwk]);
  clock = new SimulatedClock();
});
afterEach(async () => {
  await server.close();
});

function verifier(opts: Partial<VerifierOptions> = {}): NotificationVerifier {
  return createNotificationVerifier({
    appId: APP_ID,
    openIdConfigurationUrl: server.openIdUrl,
    clock,
    ...opts,
  });
}

async function rejected(v: NotificationVerifier, header: string | undefined, code: string) {
  const err = await v.verify(header).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotificationError);
  expect(err).toMatchObject({ status: 401, code });
  const token = header?.replace(/^\S+\s*/, '') ?? '';
  rejections.push({ token, err: err as NotificationError });
  return err as NotificationError;
}

const bearer = (t: string) => `Bearer ${t}`;

describe('createNotificationVerifier', () => {
  it('accepts a valid token and returns the caller; keys come from the jwks_uri of the OpenID document', async () => {
    const v = verifier();
    const caller = await v.verify(bearer(await signToken(clock, main)));
    expect(caller).toEqual({ tenantId: TENANT, appId: APP_ID, issuer: ISSUER });
    expect(server.hits).toEqual({ config: 1, jwks: 1 });
    // Cached: a second token costs no fetch.
    await v.verify(bearer(await signToken(clock, main)));
    expect(server.hits).toEqual({ config: 1, jwks: 1 });
  });

  it('concurrent verifies share one key fetch', async () => {
    const v = verifier();
    const token = await signToken(clock, main);
    const callers = await Promise.all(Array.from({ length: 8 }, () => v.verify(bearer(token))));
    expect(callers.every((c) => c.tenantId === TENANT)).toBe(true);
    expect(server.hits).toEqual({ config: 1, jwks: 1 });
  });

  it('returns the audience that matched when several app ids are configured', async () => {
    const v = verifier({ appId: ['other-app', APP_ID] });
    expect((await v.verify(bearer(await signToken(clock, main)))).appId).toBe(APP_ID);
  });

  it.each([
    [undefined, 'missingToken'],
    ['', 'missingToken'],
    ['Bearer', 'missingToken'],
    ['Bearer    ', 'missingToken'],
    ['Basic dXNlcjpwYXNz', 'missingToken'],
    ['Bearer not-a-jwt', 'malformedToken'],
    ['Bearer abc.def', 'malformedToken'],
    ['Bearer a.b.c d', 'missingToken'],
    [`Bearer ${'x'.repeat(20_000)}`, 'malformedToken'],
  ])('rejects the header %j as %s without any key fetch', async (header, code) => {
    const v = verifier();
    await rejected(v, header as string | undefined, code);
    expect(server.hits).toEqual({ config: 0, jwks: 0 });
  });

  it('rejects a token signed by another key under the published kid', async () => {
    const v = verifier();
    await rejected(v, bearer(await signToken(clock, impostor)), 'badSignature');
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const v = verifier();
    const [h, , s] = (await signToken(clock, main)).split('.');
    const p = Buffer.from(
      JSON.stringify({ iss: ISSUER, aud: APP_ID, tid: 'evil', exp: clock.now() / 1000 + 60 }),
    ).toString('base64url');
    await rejected(v, bearer(`${h}.${p}.${s}`), 'badSignature');
  });

  it('rejects a wrong issuer and accepts graph.microsoft.com by default', async () => {
    const v = verifier();
    await rejected(
      v,
      bearer(await signToken(clock, main, { claims: { iss: 'https://evil.example' } })),
      'wrongIssuer',
    );
    await rejected(v, bearer(await signToken(clock, main, { claims: { iss: undefined } })), 'wrongIssuer');
    const caller = await v.verify(
      bearer(await signToken(clock, main, { claims: { iss: 'https://graph.microsoft.com' } })),
    );
    expect(caller.issuer).toBe('https://graph.microsoft.com');
  });

  it('rejects a token for another app', async () => {
    const v = verifier();
    await rejected(
      v,
      bearer(await signToken(clock, main, { claims: { aud: 'someone-else' } })),
      'wrongAudience',
    );
  });

  it('judges expiry by the injected clock, with the tolerance', async () => {
    const v = verifier();
    const now = Math.floor(clock.now() / 1000);
    // Expired 100 s ago: inside the default 300 s tolerance.
    await v.verify(bearer(await signToken(clock, main, { claims: { exp: now - 100 } })));
    await rejected(v, bearer(await signToken(clock, main, { claims: { exp: now - 301 } })), 'expired');
    // The same token turns expired when simulated time passes.
    const token = await signToken(clock, main);
    await v.verify(bearer(token));
    await clock.advance(3600_000 + 301_000);
    await rejected(v, bearer(token), 'expired');
  });

  it('rejects a token without exp', async () => {
    const v = verifier();
    await rejected(v, bearer(await signToken(clock, main, { claims: { exp: undefined } })), 'malformedToken');
  });

  it('rejects a token whose nbf is in the future (beyond the tolerance)', async () => {
    const v = verifier();
    const now = Math.floor(clock.now() / 1000);
    await rejected(v, bearer(await signToken(clock, main, { claims: { nbf: now + 400 } })), 'notYetValid');
    await v.verify(bearer(await signToken(clock, main, { claims: { nbf: now + 200 } })));
  });

  it('rejects an unsigned alg:none token before fetching any key', async () => {
    const v = verifier();
    await rejected(v, bearer(unsignedToken(clock, 'k1')), 'badAlgorithm');
    expect(server.hits.jwks).toBe(0);
  });

  it('rejects HS256 signed with the public key as the shared secret', async () => {
    const v = verifier();
    const secret = new TextEncoder().encode(await exportSPKI(main.publicKey));
    const now = Math.floor(clock.now() / 1000);
    const token = await new SignJWT({ iss: ISSUER, aud: APP_ID, tid: TENANT, exp: now + 600 })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(secret);
    await rejected(v, bearer(token), 'badAlgorithm');
    expect(server.hits.jwks).toBe(0);
  });

  it('accepts only RS256 plus the algorithms the JWKS declares', async () => {
    const v = verifier();
    const r384 = await makeKey('r384', 'RS384');
    // Published without an alg: RS384 is a valid RSA algorithm for jose, but not declared here.
    server.keys = [main.jwk, { ...r384.jwk, alg: undefined }];
    await rejected(v, bearer(await signToken(clock, r384, { alg: 'RS384' })), 'badAlgorithm');
    server.keys = [main.jwk, r384.jwk];
    await v.refresh();
    await v.verify(bearer(await signToken(clock, r384, { alg: 'RS384' })));
  });

  it('requires the tid claim', async () => {
    const v = verifier();
    await rejected(v, bearer(await signToken(clock, main, { claims: { tid: undefined } })), 'missingTenant');
    await rejected(v, bearer(await signToken(clock, main, { claims: { tid: '' } })), 'missingTenant');
    await rejected(v, bearer(await signToken(clock, main, { claims: { tid: 42 } })), 'missingTenant');
  });

  it('enforces the tenant allowlist, ignoring case', async () => {
    const v = verifier({ tenants: [TENANT.toUpperCase()] });
    expect((await v.verify(bearer(await signToken(clock, main)))).tenantId).toBe(TENANT);
    await rejected(
      v,
      bearer(await signToken(clock, main, { claims: { tid: '99999999-bbbb-cccc-dddd-eeeeeeeeeeee' } })),
      'tenantNotAllowed',
    );
  });

  describe('unknown kid', () => {
    it('refreshes the keys once and accepts the token when the new JWKS has its kid', async () => {
      const v = verifier();
      await v.verify(bearer(await signToken(clock, main)));
      server.keys = [main.jwk, rotated.jwk];
      await v.verify(bearer(await signToken(clock, rotated)));
      expect(server.hits.jwks).toBe(2);
    });

    it('refreshes once, rejects if still unknown, and rate-limits further unknown-kid refreshes', async () => {
      const v = verifier();
      await v.verify(bearer(await signToken(clock, main)));
      await rejected(v, bearer(await signToken(clock, rotated, { kid: 'nope-1' })), 'unknownKey');
      expect(server.hits.jwks).toBe(2);
      // A flood of random kids within the cooldown costs no fetch.
      for (let i = 0; i < 5; i++)
        await rejected(v, bearer(await signToken(clock, rotated, { kid: `rnd-${i}` })), 'unknownKey');
      expect(server.hits.jwks).toBe(2);
      // Known keys keep working meanwhile.
      await v.verify(bearer(await signToken(clock, main)));
      await clock.advance(5 * 60_000);
      server.keys = [main.jwk, rotated.jwk];
      await v.verify(bearer(await signToken(clock, rotated)));
      expect(server.hits.jwks).toBe(3);
    });

    it('concurrent tokens with unknown kids share one refresh', async () => {
      const v = verifier();
      await v.verify(bearer(await signToken(clock, main)));
      server.keys = [main.jwk, rotated.jwk];
      const token = bearer(await signToken(clock, rotated));
      await Promise.all([v.verify(token), v.verify(token), v.verify(token)]);
      expect(server.hits.jwks).toBe(2);
    });

    it('the first fetch counts: an unknown kid on a cold cache is not fetched twice', async () => {
      const v = verifier();
      await rejected(v, bearer(await signToken(clock, rotated)), 'unknownKey');
      expect(server.hits.jwks).toBe(1);
    });
  });

  describe('key endpoint failures', () => {
    // One attempt per key GET: these count the verifier's own backoff (the adapter's retry: below).
    it('with no keys yet: 401 keyFetchFailed, backs off, and recovers', async () => {
      server.failing = true;
      const v = verifier({ fetchAttempts: 1 });
      const token = bearer(await signToken(clock, main));
      const err = await rejected(v, token, 'keyFetchFailed');
      expect(err.message).toMatch(/500/);
      expect(server.hits.config).toBe(1);
      // Within the backoff no new fetch, still refused.
      await rejected(v, token, 'keyFetchFailed');
      expect(server.hits.config).toBe(1);
      await expect(v.refresh()).rejects.toMatchObject({ code: 'keyFetchFailed' });
      server.failing = false;
      await clock.advance(30_000);
      await v.verify(token);
      expect(server.hits.jwks).toBe(1);
    });

    it('a failed periodic refresh keeps the old keys; an unknown kid is then refused', async () => {
      const v = verifier({ fetchAttempts: 1 });
      await v.verify(bearer(await signToken(clock, main)));
      server.failing = true;
      await clock.advance(2 * 3600_000);
      await v.verify(bearer(await signToken(clock, main)));
      expect(server.hits.config).toBe(2);
      await clock.advance(31_000);
      await rejected(v, bearer(await signToken(clock, rotated)), 'keyFetchFailed');
    });

    it('the key endpoint unreachable (connection refused) is keyFetchFailed too', async () => {
      const url = server.openIdUrl;
      await server.close();
      const v = createNotificationVerifier({
        appId: APP_ID,
        openIdConfigurationUrl: url,
        clock,
        fetchAttempts: 1,
      });
      await rejected(v, bearer(await signToken(clock, main)), 'keyFetchFailed');
    });
  });

  it('refreshes the keys after 2 h of simulated time, not before', async () => {
    const v = verifier();
    await v.verify(bearer(await signToken(clock, main)));
    await clock.advance(2 * 3600_000 - 1);
    await v.verify(bearer(await signToken(clock, main)));
    expect(server.hits.jwks).toBe(1);
    // The key rotates out: after the interval the old kid is gone.
    server.keys = [rotated.jwk];
    await clock.advance(1);
    await rejected(v, bearer(await signToken(clock, main)), 'unknownKey');
    expect(server.hits.jwks).toBe(2);
    await v.verify(bearer(await signToken(clock, rotated)));
    // The verifier leaves no timer on the clock between notifications.
    expect(clock.pendingTimers).toBe(0);
  });

  it('uses a custom fetchJson when given', async () => {
    const urls: string[] = [];
    const v = verifier({
      openIdConfigurationUrl: 'https://example.invalid/openid',
      fetchJson: async (url) => {
        urls.push(url);
        return url.endsWith('/openid') ? { jwks_uri: 'https://example.invalid/k' } : { keys: [main.jwk] };
      },
    });
    await v.verify(bearer(await signToken(clock, main)));
    expect(urls).toEqual(['https://example.invalid/openid', 'https://example.invalid/k']);
  });

  it('refuses an OpenID document without an http(s) jwks_uri', async () => {
    const v = verifier({ fetchJson: async () => ({ jwks_uri: 'file:///etc/passwd' }) });
    await rejected(v, bearer(await signToken(clock, main)), 'keyFetchFailed');
  });

  describe('verified-token cache', () => {
    // Signature checks jose actually ran (it verifies through WebCrypto).
    let signatureChecks: ReturnType<typeof vi.spyOn>;
    beforeEach(() => {
      signatureChecks = vi.spyOn(crypto.subtle, 'verify');
    });
    afterEach(() => {
      signatureChecks.mockRestore();
    });

    it('checks a reused token once; the caller it returns is a copy', async () => {
      const v = verifier();
      const token = bearer(await signToken(clock, main));
      const first = await v.verify(token);
      (first as { tenantId: string }).tenantId = 'tampered-by-a-consumer';
      for (let i = 0; i < 5; i++) {
        const again = await v.verify(token);
        expect(again).toEqual({ tenantId: TENANT, appId: APP_ID, issuer: ISSUER });
        (again as { appId: string }).appId = 'tampered-too';
      }
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('verifiedBefore: the remembered caller of the same header, without a Promise, until it expires', async () => {
      const v = verifier();
      const now = Math.floor(clock.now() / 1000);
      const token = bearer(await signToken(clock, main, { claims: { exp: now + 60 } }));
      expect(v.verifiedBefore?.(token)).toBeUndefined(); // never checked: verify() must run
      await v.verify(token);
      const known = v.verifiedBefore?.(token);
      expect(known).toEqual({ tenantId: TENANT, appId: APP_ID, issuer: ISSUER });
      (known as { tenantId: string }).tenantId = 'tampered-by-a-consumer';
      expect(v.verifiedBefore?.(token)?.tenantId).toBe(TENANT);
      // Another header, or none, is verify()'s to judge.
      expect(v.verifiedBefore?.(bearer(await signToken(clock, main)))).toBeUndefined();
      expect(v.verifiedBefore?.(undefined)).toBeUndefined();
      expect(signatureChecks).toHaveBeenCalledTimes(1);
      await clock.advance((60 + 300) * 1000);
      expect(v.verifiedBefore?.(token)).toBeUndefined();
      await rejected(v, token, 'expired');
    });

    it('rejects a cached token once it expires, by the clock and with the tolerance', async () => {
      const v = verifier();
      const now = Math.floor(clock.now() / 1000);
      const token = bearer(await signToken(clock, main, { claims: { exp: now + 60 } }));
      await v.verify(token);
      // jose's rule: expired once exp <= now - tolerance (300 s by default).
      await clock.advance((60 + 300 - 1) * 1000);
      await v.verify(token);
      expect(signatureChecks).toHaveBeenCalledTimes(1);
      await clock.advance(1000);
      await rejected(v, token, 'expired');
      await rejected(v, token, 'expired');
    });

    it('checks a different token in full: a tampered copy of a cached token is refused', async () => {
      const v = verifier();
      const token = await signToken(clock, main);
      await v.verify(bearer(token));
      const [h, p, sig] = token.split('.') as [string, string, string];
      const flipped = `${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`;
      await rejected(v, bearer(`${h}.${p}.${flipped}`), 'badSignature');
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), tid: 'evil' }),
      ).toString('base64url');
      await rejected(v, bearer(`${h}.${forged}.${sig}`), 'badSignature');
      await rejected(v, bearer(await signToken(clock, impostor)), 'badSignature');
      // Another genuine token is checked too.
      await clock.advance(1000);
      await v.verify(bearer(await signToken(clock, main)));
      expect(signatureChecks).toHaveBeenCalledTimes(5);
    });

    it('reads every header that is not the last remembered one afresh', async () => {
      const v = verifier();
      const token = await signToken(clock, main);
      await v.verify(bearer(token));
      await rejected(v, undefined, 'missingToken');
      await rejected(v, `Basic ${token}`, 'missingToken');
      await rejected(v, `${bearer(token)} extra`, 'missingToken');
      // Another spelling of the same token is still the remembered token.
      expect(await v.verify(`bearer \t${token} `)).toEqual({
        tenantId: TENANT,
        appId: APP_ID,
        issuer: ISSUER,
      });
      await v.verify(bearer(token));
      expect(signatureChecks).toHaveBeenCalledTimes(1);
    });

    it('never remembers a failure', async () => {
      const v = verifier({ tenants: ['someone-else'] });
      const token = bearer(await signToken(clock, main));
      await rejected(v, token, 'tenantNotAllowed');
      await rejected(v, token, 'tenantNotAllowed');
      expect(signatureChecks).toHaveBeenCalledTimes(2);
    });

    it('is bounded: the oldest token is forgotten and checked again', async () => {
      const v = verifier({ verifiedCacheSize: 2 });
      const tokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        tokens.push(bearer(await signToken(clock, main, { claims: { jti: `t${i}` } })));
        await v.verify(tokens[i]);
      }
      expect(signatureChecks).toHaveBeenCalledTimes(3);
      await v.verify(tokens[2]!);
      await v.verify(tokens[1]!);
      expect(signatureChecks).toHaveBeenCalledTimes(3);
      await v.verify(tokens[0]!);
      expect(signatureChecks).toHaveBeenCalledTimes(4);
      // 0 turns the cache off.
      const off = verifier({ verifiedCacheSize: 0 });
      await off.verify(tokens[0]!);
      await off.verify(tokens[0]!);
      expect(signatureChecks).toHaveBeenCalledTimes(6);
    });

    it('the default cache is bounded too', async () => {
      const v = verifier();
      const first = bearer(await signToken(clock, main, { claims: { jti: 'first' } }));
      await v.verify(first);
      for (let i = 0; i < 128; i++)
        await v.verify(bearer(await signToken(clock, main, { claims: { jti: `n${i}` } })));
      expect(signatureChecks).toHaveBeenCalledTimes(129);
      await v.verify(first);
      expect(signatureChecks).toHaveBeenCalledTimes(130);
    });

    it('forgets its tokens when the keys change: a cached token of a rotated-out key is refused', async () => {
      const v = verifier();
      const token = bearer(await signToken(clock, main));
      await v.verify(token);
      // An unknown kid refreshes the keys, and main's key is gone from the new JWKS.
      server.keys = [rotated.jwk];
      await v.verify(bearer(await signToken(clock, rotated)));
      await rejected(v, token, 'unknownKey');
    });

    it('forgets its tokens when the keys are due for their periodic refresh', async () => {
      const v = verifier();
      const now = Math.floor(clock.now() / 1000);
      // Still valid after the refresh interval: the refresh, not expiry, refuses it.
      const token = bearer(await signToken(clock, main, { claims: { exp: now + 4 * 3600 } }));
      await v.verify(token);
      server.keys = [rotated.jwk];
      await clock.advance(2 * 3600_000);
      await rejected(v, token, 'unknownKey');
      expect(server.hits.jwks).toBe(2);
    });
  });

  it('validates its options', () => {
    expect(() => createNotificationVerifier({ appId: '' })).toThrow(TypeError);
    expect(() => createNotificationVerifier({ appId: [] })).toThrow(TypeError);
    expect(() => createNotificationVerifier({ appId: 'a', verifiedCacheSize: -1 })).toThrow(TypeError);
    expect(() => createNotificationVerifier({ appId: 'a', verifiedCacheSize: 1.5 })).toThrow(TypeError);
  });
});

afterAll(() => {
  // No rejection anywhere quoted its token (or a piece of it) in message, code or JSON.
  expect(rejections.length).toBeGreaterThan(20);
  for (const { token, err } of rejections) {
    const parts = token.split('.').filter((p) => p.length >= 8);
    const texts = [err.message, err.code, JSON.stringify(err), String(err)];
    for (const text of texts) {
      if (token.length >= 8) expect(text).not.toContain(token);
      for (const p of parts) expect(text).not.toContain(p);
      expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    }
  }
});
