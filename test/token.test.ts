import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/adapters/clock.js';
import { clientCredentials, fromTokenCredential, type TokenCredentialLike } from '../src/adapters/token.js';

const MIN = 60_000;

/** A fake Azure TokenCredential issuing token-1, token-2, ... valid for `lifeMs` on the clock. */
function fakeCredential(clock: SimulatedClock, lifeMs = 60 * MIN) {
  const calls: Array<string | string[]> = [];
  let n = 0;
  const credential: TokenCredentialLike = {
    async getToken(scopes) {
      calls.push(scopes);
      await new Promise((r) => setImmediate(r));
      n++;
      return { token: `token-${n}`, expiresOnTimestamp: clock.now() + lifeMs };
    },
  };
  return { credential, calls };
}

describe('fromTokenCredential', () => {
  it('caches the token until the refresh margin before expiry, on the clock', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const { credential, calls } = fakeCredential(clock);
    const tokens = fromTokenCredential(credential, { clock });
    expect(await tokens.getToken()).toBe('token-1');
    expect(calls).toEqual(['https://graph.microsoft.com/.default']);

    await clock.advance(55 * MIN - 1);
    expect(await tokens.getToken()).toBe('token-1');
    expect(calls).toHaveLength(1);

    await clock.advance(1); // expiry 60 min minus the default 5-minute margin
    expect(await tokens.getToken()).toBe('token-2');
    expect(calls).toHaveLength(2);
  });

  it('peek gives the cached token only while getToken would give it without asking the credential', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const { credential, calls } = fakeCredential(clock);
    const tokens = fromTokenCredential(credential, { clock });
    expect(tokens.peek?.()).toBeUndefined();
    expect(await tokens.getToken()).toBe('token-1');
    expect(tokens.peek?.()).toBe('token-1');
    await clock.advance(55 * MIN);
    expect(tokens.peek?.()).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('honours scope and refreshMarginMs', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const { credential, calls } = fakeCredential(clock);
    const tokens = fromTokenCredential(credential, {
      clock,
      scope: 'api://x/.default',
      refreshMarginMs: MIN,
    });
    await tokens.getToken();
    await clock.advance(58 * MIN);
    expect(await tokens.getToken()).toBe('token-1');
    await clock.advance(MIN);
    expect(await tokens.getToken()).toBe('token-2');
    expect(calls).toEqual(['api://x/.default', 'api://x/.default']);
  });

  it('keeps a token shorter-lived than the margin for half its life instead of refetching every call', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const { credential, calls } = fakeCredential(clock, 2 * MIN);
    const tokens = fromTokenCredential(credential, { clock });
    await tokens.getToken();
    await clock.advance(MIN - 1);
    await tokens.getToken();
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    await tokens.getToken();
    expect(calls).toHaveLength(2);
  });

  it('shares one credential call among concurrent callers', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const { credential, calls } = fakeCredential(clock);
    const tokens = fromTokenCredential(credential, { clock });
    const all = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
    expect(new Set(all)).toEqual(new Set(['token-1']));
    expect(calls).toHaveLength(1);
  });

  it('forceRefresh bypasses the cache (and concurrent forced refreshes share one call)', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const { credential, calls } = fakeCredential(clock);
    const tokens = fromTokenCredential(credential, { clock });
    expect(await tokens.getToken()).toBe('token-1');
    const forced = await Promise.all([
      tokens.getToken({ forceRefresh: true }),
      tokens.getToken({ forceRefresh: true }),
    ]);
    expect(forced).toEqual(['token-2', 'token-2']);
    expect(await tokens.getToken()).toBe('token-2');
    expect(calls).toHaveLength(2);
  });

  it('a null token is a clear error, and the next call tries again', async () => {
    const clock = new SimulatedClock({ start: 0 });
    let answer: { token: string; expiresOnTimestamp: number } | null = null;
    const tokens = fromTokenCredential({ getToken: async () => answer }, { clock });
    await expect(tokens.getToken()).rejects.toThrow(
      'token credential returned no token for scope https://graph.microsoft.com/.default',
    );
    answer = { token: 'late', expiresOnTimestamp: 3600_000 };
    expect(await tokens.getToken()).toBe('late');
  });

  it('a failing credential gives an error without secrets', async () => {
    const tokens = fromTokenCredential({
      getToken: async () => {
        throw new Error('AADSTS7000215: Invalid client secret. Authorization: Bearer eyJabc.eyJdef.sig');
      },
    });
    const err = (await tokens.getToken().catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(
      /^token credential failed for scope https:\/\/graph.microsoft.com\/.default: /,
    );
    expect(err.message).toContain('AADSTS7000215');
    expect(err.message).not.toContain('eyJabc');
    expect(err.cause).toBeUndefined();
  });

  it('is also exported as clientCredentials', () => {
    expect(clientCredentials).toBe(fromTokenCredential);
  });
});
