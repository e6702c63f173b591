/**
 * Where the app token comes from. The library never runs an OAuth flow itself:
 * wrap an Azure `TokenCredential` (from `@azure/identity` or MSAL) instead.
 */
import { redact } from '../graph/errors.js';
import type { TokenProvider } from '../ports/token.js';
import { type Clock, systemClock } from './clock.js';

export type { TokenProvider } from '../ports/token.js';

/** A fixed token: tests, the emulator, or a token managed elsewhere. */
export function staticToken(token: string): TokenProvider {
  if (!token) throw new TypeError('staticToken needs a non-empty token');
  return { getToken: async () => token, peek: () => token };
}

/** The shape of an Azure `TokenCredential` (`@azure/identity`, MSAL wrappers). */
export interface TokenCredentialLike {
  getToken(
    scopes: string | string[],
    options?: unknown,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

export interface TokenCredentialOptions {
  /** Default `https://graph.microsoft.com/.default`. */
  scope?: string;
  /** Refresh this long before `expiresOnTimestamp` (default 5 minutes). */
  refreshMarginMs?: number;
  /** Expiry is judged on this clock (default: the wall clock). */
  clock?: Clock;
}

export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

/**
 * An app token from an Azure `TokenCredential` (for example
 * `new ClientSecretCredential(tenant, clientId, secret)`), cached until
 * `refreshMarginMs` before it expires. Concurrent callers share one
 * `getToken`; `forceRefresh` (after a 401) skips the cache. Failures never
 * quote the credential or a token.
 */
export function fromTokenCredential(
  credential: TokenCredentialLike,
  options: TokenCredentialOptions = {},
): TokenProvider {
  if (!credential || typeof credential.getToken !== 'function')
    throw new TypeError('fromTokenCredential needs an object with getToken(scopes)');
  const scope = options.scope ?? GRAPH_DEFAULT_SCOPE;
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const clock = options.clock ?? systemClock;
  let cached: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    let result: Awaited<ReturnType<TokenCredentialLike['getToken']>>;
    try {
      result = await credential.getToken(scope);
    } catch (err) {
      const detail = err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
      throw new Error(redact(`token credential failed for scope ${scope}: ${detail}`).slice(0, 500));
    }
    if (!result || typeof result.token !== 'string' || result.token === '')
      throw new Error(`token credential returned no token for scope ${scope}`);
    const now = clock.now();
    const expires = Number(result.expiresOnTimestamp);
    // Refresh `margin` early, but keep a short-lived token for half its life at least.
    const life = Number.isFinite(expires) ? Math.max(0, expires - now) : 0;
    cached = { token: result.token, refreshAt: now + Math.max(life - margin, life / 2) };
    return result.token;
  }

  return {
    peek() {
      return cached && clock.now() < cached.refreshAt ? cached.token : undefined;
    },
    getToken(opts) {
      if (!opts?.forceRefresh && cached && clock.now() < cached.refreshAt)
        return Promise.resolve(cached.token);
      if (opts?.forceRefresh) cached = undefined;
      inflight ??= fetchToken().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}

/** The design's name for `fromTokenCredential`: client-credentials app tokens from an Azure credential. */
export const clientCredentials = fromTokenCredential;
