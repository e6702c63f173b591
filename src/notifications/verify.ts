/**
 * Verifies the JWT Graph puts on every notification: signature against the
 * keys of the OpenID configuration (fetched at runtime, cached, refreshed when
 * older than two hours of clock time and once on an unknown kid), issuer,
 * audience = the bot's app id, expiry, and a tenant claim. jose does the
 * cryptography; time comes from the injected clock, so no timer is left
 * running between notifications. Graph reuses one token across many
 * notifications, so a token that passed is remembered (exact string, until
 * its expiry, bounded; failures never) and its signature is not checked again.
 */
import { createLocalJWKSet, decodeProtectedHeader, errors, type JWK, jwtVerify } from 'jose';
import { redact } from '../graph/errors.js';
import { type Clock, trackWork } from '../ports/clock.js';
import type { HttpAdapter } from '../ports/http.js';
import { NotificationError, type NotificationErrorCode } from './errors.js';

export const GRAPH_OPENID_CONFIGURATION = 'https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration';
export const GRAPH_NOTIFICATION_ISSUERS: readonly string[] = [
  'https://api.botframework.com',
  'https://graph.microsoft.com',
];

/** Signature algorithms we ever accept: asymmetric only (never `none`, never HS*). */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);
/** Microsoft signs with RS256; keys that declare another `alg` add theirs. */
const BASE_ALGORITHM = 'RS256';
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
/** Larger than any real token; keeps a junk header from costing parse time. */
const MAX_TOKEN_CHARS = 16 * 1024;
/** Largest OpenID document or JWKS read (Microsoft's are a few KB). */
const MAX_DOCUMENT_BYTES = 512 * 1024;
/** Tokens live about an hour and Graph reuses each one: few are live at once. */
const DEFAULT_VERIFIED_CACHE_SIZE = 128;

export interface VerifierOptions {
  /** The bot's app id (the `aud` of the tokens); several when one endpoint serves several bots. */
  appId: string | string[];
  /** Default: Microsoft's, as the calling-notifications article names it. */
  openIdConfigurationUrl?: string;
  /** Accepted `iss` values (default: api.botframework.com and graph.microsoft.com). */
  issuers?: readonly string[];
  /** Accept only these tenants (`tid`), when set. */
  tenants?: readonly string[];
  /** Default: the wall clock (the runtime passes its own). */
  clock?: Clock;
  /**
   * The adapter the OpenID document and the JWKS are fetched through, with no
   * Authorization header (`auth: 'none'`), its retries and timeouts on `clock`.
   * The runtime passes its own; default: an own undici adapter.
   */
  http?: HttpAdapter;
  /** Keys older than this are fetched again before use (default 2 h, as Microsoft's sample). */
  refreshIntervalMs?: number;
  /** Least time between two refreshes caused by unknown kids (default 5 min). */
  unknownKidCooldownMs?: number;
  /** After a failed key fetch, the next attempt waits this long (default 30 s). */
  fetchFailureBackoffMs?: number;
  /** Allowed clock skew for exp/nbf (default 300 s). */
  clockToleranceSec?: number;
  /** Timeout of each attempt of a key fetch, on the clock (default 10 s). */
  fetchTimeoutMs?: number;
  /** Attempts of each key GET, retries waiting on the clock (default 2: one retry after a blip). */
  fetchAttempts?: number;
  /** GET a URL and return its JSON; rejects on any failure. Replaces the GET through `http`. */
  fetchJson?: (url: string) => Promise<unknown>;
  /** Tokens that passed, remembered until they expire so a reused token is not checked again (default 128; 0: off). */
  verifiedCacheSize?: number;
}

export interface VerifiedCaller {
  /** The `tid` claim. */
  tenantId: string;
  /** The audience that matched (one of the configured app ids). */
  appId: string;
  issuer: string;
}

export interface NotificationVerifier {
  /** Resolves with the caller, or rejects with a 401 NotificationError. */
  verify(authorizationHeader: string | undefined): Promise<VerifiedCaller>;
  /**
   * Optional fast path: the caller this same header proved last time, if that
   * still holds now, without a Promise; undefined means "ask verify()". Graph
   * reuses one token for many notifications, so most requests end here.
   */
  verifiedBefore?(authorizationHeader: string | undefined): VerifiedCaller | undefined;
  /** Fetch the keys now (e.g. at startup); rejects with `keyFetchFailed` and keeps the old keys. */
  refresh(): Promise<void>;
}

interface KeySet {
  getKey: ReturnType<typeof createLocalJWKSet>;
  kids: Set<string>;
  algorithms: string[];
  fetchedAt: number;
}

/** A token that passed: what it proved, and the limits it is good within. */
interface Verified {
  caller: VerifiedCaller;
  /** The key set it was checked against; after a refresh it is checked again. */
  keys: KeySet;
  /** Claims in seconds, compared as jose does. */
  exp: number;
  nbf: number | undefined;
}

const unauthorized = (code: NotificationErrorCode, message: string) =>
  new NotificationError(401, code, message);

/** A reason for logs: status codes and our own words only, tokens scrubbed, short. */
const reasonOf = (err: unknown) => redact(err instanceof Error ? err.message : String(err)).slice(0, 200);

/** GET one key document through the adapter: no Authorization header, size-capped, a 200 with JSON. */
async function getDocument(http: HttpAdapter, url: string, operation: string, o: VerifierOptions) {
  const res = await http.request({
    method: 'GET',
    url,
    auth: 'none',
    operation,
    retry: 'always',
    maxAttempts: o.fetchAttempts ?? 2,
    timeoutMs: o.fetchTimeoutMs ?? 10_000,
    maxBytes: MAX_DOCUMENT_BYTES,
  });
  if (res.status !== 200 || res.json === undefined)
    throw new Error(`${operation}: GET ${new URL(url).pathname} answered ${res.status} without JSON`);
  return res.json;
}

function httpUrl(value: unknown, what: string): string {
  if (typeof value === 'string') {
    try {
      const u = new URL(value);
      if (u.protocol === 'https:' || u.protocol === 'http:') return u.href;
    } catch {
      // reported below
    }
  }
  throw new Error(`${what} is not an http(s) URL`);
}

/**
 * What the verifier runs on when the options leave it open: the caller that
 * wires it (the runtime, or the standalone createNotificationVerifier) knows
 * the adapters; this layer does not.
 */
export interface VerifierDefaults {
  clock: Clock;
  /** Called once, at the first key fetch, when neither `http` nor `fetchJson` is given. */
  http(clock: Clock): HttpAdapter;
}

export function buildNotificationVerifier(
  options: VerifierOptions,
  defaults: VerifierDefaults,
): NotificationVerifier {
  const clock = options.clock ?? defaults.clock;
  const configUrl = options.openIdConfigurationUrl ?? GRAPH_OPENID_CONFIGURATION;
  const issuers = [...(options.issuers ?? GRAPH_NOTIFICATION_ISSUERS)];
  const audience = Array.isArray(options.appId) ? [...options.appId] : [options.appId];
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === ''))
    throw new TypeError('createNotificationVerifier: appId must be a non-empty string (or strings)');
  if (issuers.length === 0) throw new TypeError('createNotificationVerifier: issuers must not be empty');
  const tenants = options.tenants ? new Set(options.tenants.map((t) => t.toLowerCase())) : undefined;
  const refreshEvery = options.refreshIntervalMs ?? 2 * 3600_000;
  const cooldown = options.unknownKidCooldownMs ?? 5 * 60_000;
  const backoff = options.fetchFailureBackoffMs ?? 30_000;
  const tolerance = options.clockToleranceSec ?? 300;
  let http = options.http;
  const override = options.fetchJson;
  const fetchJson = override
    ? // Opaque work: hold simulated time still while it runs, as the adapter does per attempt.
      (url: string, _operation: string) => trackWork(clock, override(url))
    : (url: string, operation: string) => {
        http ??= defaults.http(clock);
        return getDocument(http, url, operation, options);
      };
  const cacheSize = options.verifiedCacheSize ?? DEFAULT_VERIFIED_CACHE_SIZE;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0)
    throw new TypeError('createNotificationVerifier: verifiedCacheSize must be a non-negative integer');
  // Keyed by the exact token text; Map order is insertion order, so the first key is the oldest.
  const verified = new Map<string, Verified>();

  let cache: KeySet | undefined;
  let inflight: Promise<KeySet> | undefined;
  // No fetch before this clock time after a failure (so a dead key endpoint is not hammered).
  let retryAt = Number.NEGATIVE_INFINITY;
  let lastUnknownKidRefresh = Number.NEGATIVE_INFINITY;

  async function load(): Promise<KeySet> {
    const config = (await fetchJson(configUrl, 'openIdConfiguration')) as { jwks_uri?: unknown } | null;
    const jwksUri = httpUrl(config?.jwks_uri, 'OpenID configuration jwks_uri');
    const jwks = (await fetchJson(jwksUri, 'jwks')) as { keys?: unknown } | null;
    if (!Array.isArray(jwks?.keys)) throw new Error('JWKS has no keys array');
    const keys = jwks.keys as JWK[];
    const declared = keys
      .map((k) => k?.alg)
      .filter((a): a is string => typeof a === 'string' && ASYMMETRIC.has(a));
    return {
      getKey: createLocalJWKSet({ keys }),
      kids: new Set(keys.map((k) => k?.kid).filter((k): k is string => typeof k === 'string')),
      algorithms: [...new Set([BASE_ALGORITHM, ...declared])],
      fetchedAt: clock.now(),
    };
  }

  /** One fetch at a time, shared by every caller; a failure keeps the keys we had. */
  function fetchKeys(): Promise<KeySet> {
    // Not tracked as a whole: a retry inside waits on the clock, which must be free to move.
    inflight ??= load()
      .then(
        (fresh) => {
          cache = fresh;
          retryAt = Number.NEGATIVE_INFINITY;
          return fresh;
        },
        (err: unknown) => {
          retryAt = clock.now() + backoff;
          throw unauthorized(
            'keyFetchFailed',
            `notification signing keys could not be fetched: ${reasonOf(err)}`,
          );
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  async function keysFor(kid: string | undefined): Promise<KeySet> {
    let fetchedNow = false;
    // A refresh already under way (maybe for this very kid): wait for it rather than judge old keys.
    if (inflight)
      await inflight.then(
        () => {
          fetchedNow = true;
        },
        () => {},
      );
    const stale = !cache || clock.now() - cache.fetchedAt >= refreshEvery;
    if (stale && clock.now() >= retryAt) {
      // A failed periodic refresh keeps the old keys; with none at all we must refuse.
      await fetchKeys().then(
        () => {
          fetchedNow = true;
        },
        (err: unknown) => {
          if (!cache) throw err;
        },
      );
    }
    const keys = cache;
    if (!keys) throw unauthorized('keyFetchFailed', 'notification signing keys are not available yet');
    if (kid === undefined || keys.kids.has(kid)) return keys;
    // Unknown kid: the keys may have rotated. Refresh once, rate-limited, then judge again.
    const now = clock.now();
    // The key endpoint failed just now: we cannot tell whether the kid is real.
    if (now < retryAt)
      throw unauthorized('keyFetchFailed', 'notification signing keys could not be refreshed for a new kid');
    if (!fetchedNow && now - lastUnknownKidRefresh >= cooldown) {
      lastUnknownKidRefresh = now;
      const fresh = await fetchKeys();
      if (fresh.kids.has(kid)) return fresh;
    }
    throw unauthorized('unknownKey', 'notification token was signed with an unknown key');
  }

  /**
   * The caller a remembered token proved, if it still holds now: within its
   * nbf/exp (with the tolerance, as jose judges them), against the current,
   * fresh keys with no refresh under way. Anything else takes the full path.
   */
  function remembered(token: string): VerifiedCaller | undefined {
    const hit = verified.get(token);
    if (!hit) return undefined;
    const now = clock.now();
    const nowSec = Math.floor(now / 1000);
    const valid =
      hit.exp > nowSec - tolerance &&
      (hit.nbf === undefined || hit.nbf <= nowSec + tolerance) &&
      hit.keys === cache &&
      !inflight &&
      now - hit.keys.fetchedAt < refreshEvery;
    if (!valid) {
      verified.delete(token);
      return undefined;
    }
    return { ...hit.caller };
  }

  function remember(token: string, entry: Verified): void {
    if (cacheSize === 0) return;
    verified.delete(token);
    while (verified.size >= cacheSize) {
      const oldest = verified.keys().next();
      if (oldest.done) break;
      verified.delete(oldest.value);
    }
    verified.set(token, entry);
  }

  /**
   * The last header whose token was remembered, and that token: Graph sends the
   * same header again and again, and comparing it is cheaper than matching and
   * hashing a fresh copy of the token. remembered() still judges it each time.
   */
  let lastHeader: string | undefined;
  let lastToken = '';

  async function verify(authorizationHeader: string | undefined): Promise<VerifiedCaller> {
    let token = lastToken;
    if (authorizationHeader === undefined || authorizationHeader !== lastHeader) {
      const m = BEARER.exec(authorizationHeader ?? '');
      if (!m?.[1]) throw unauthorized('missingToken', 'notification has no bearer token');
      token = m[1];
      if (token.length > MAX_TOKEN_CHARS)
        throw unauthorized('malformedToken', 'notification token is too long');
    }
    const known = remembered(token);
    if (known) {
      lastHeader = authorizationHeader;
      lastToken = token;
      return known;
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw unauthorized('malformedToken', 'notification token is not a JWT');
    }
    // Refused before any key lookup: `none` and shared-secret algorithms never cost a fetch.
    if (typeof header.alg !== 'string' || !ASYMMETRIC.has(header.alg))
      throw unauthorized('badAlgorithm', 'notification token uses a disallowed algorithm');
    if (header.kid !== undefined && typeof header.kid !== 'string')
      throw unauthorized('malformedToken', 'notification token has an invalid kid');

    const keys = await keysFor(header.kid);
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        issuer: issuers,
        audience,
        algorithms: keys.algorithms,
        currentDate: new Date(clock.now()),
        clockTolerance: tolerance,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw joseToNotificationError(err);
    }
    const tid = payload.tid;
    if (typeof tid !== 'string' || tid === '')
      throw unauthorized('missingTenant', 'notification token has no tenant (tid) claim');
    if (tenants && !tenants.has(tid.toLowerCase()))
      throw unauthorized('tenantNotAllowed', 'notification token is from a tenant that is not allowed');
    const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const appId = audience.find((a) => auds.includes(a)) ?? String(audience[0]);
    const caller = { tenantId: tid, appId, issuer: String(payload.iss) };
    // jose checked both are numbers when present; exp is required.
    if (typeof payload.exp === 'number' && cacheSize > 0) {
      remember(token, {
        caller: { ...caller },
        keys,
        exp: payload.exp,
        nbf: typeof payload.nbf === 'number' ? payload.nbf : undefined,
      });
      // The next request with this header (Graph's next notification) takes the short path at once.
      lastHeader = authorizationHeader;
      lastToken = token;
    }
    return caller;
  }

  return {
    verify,
    verifiedBefore: (authorizationHeader) =>
      authorizationHeader !== undefined && authorizationHeader === lastHeader
        ? remembered(lastToken)
        : undefined,
    async refresh() {
      await fetchKeys();
    },
  };
}

/** jose's errors to ours; jose messages are not passed on (they may name claim values). */
function joseToNotificationError(err: unknown): NotificationError {
  if (err instanceof NotificationError) return err;
  if (err instanceof errors.JWTExpired) return unauthorized('expired', 'notification token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        if (err.reason === 'check_failed')
          return unauthorized('notYetValid', 'notification token is not valid yet');
        break;
      case 'iss':
        return unauthorized('wrongIssuer', 'notification token has an issuer that is not accepted');
      case 'aud':
        return unauthorized('wrongAudience', 'notification token is for another app');
    }
    return unauthorized('malformedToken', `notification token has an invalid "${err.claim}" claim`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return unauthorized('badSignature', 'notification token signature is invalid');
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return unauthorized('unknownKey', 'notification token was signed with an unknown key');
  if (err instanceof errors.JOSEAlgNotAllowed)
    return unauthorized('badAlgorithm', 'notification token uses a disallowed algorithm');
  return unauthorized('malformedToken', 'notification token is malformed');
}
