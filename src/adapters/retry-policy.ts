/**
 * When and how long to retry a Graph request. Pure functions, no I/O and no
 * timers: the HTTP adapter asks `decideRetry` after each failed attempt and
 * waits `retryDelay` on its Clock.
 */
import type { RetryMode } from './http.js';

export interface RetryPolicy {
  /** Attempts including the first (default 4). A 401 token refresh does not count against it. */
  maxAttempts: number;
  /** First backoff step (default 500 ms); doubles per attempt. */
  baseDelayMs: number;
  /** Backoff cap (default 30 s). */
  maxDelayMs: number;
  /**
   * Longest Retry-After waited for (default 120 s). A longer one is not retried
   * early (Graph would refuse again): the request fails with a GraphError whose
   * `retryAfterMs` tells the caller when to come back.
   */
  maxRetryAfterMs: number;
  /**
   * `equal` (default): half the step plus a random half, so a retry never comes
   * immediately. `full`: anywhere between 0 and the step.
   */
  jitter: 'full' | 'equal';
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
  jitter: 'equal',
});

/** Merge and check a partial policy; throws a TypeError on nonsense values. */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const p: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (p as any)[k] = v;
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1)
    throw new TypeError('retry.maxAttempts must be an integer >= 1');
  for (const k of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const)
    if (!Number.isFinite(p[k]) || p[k] < 0) throw new TypeError(`retry.${k} must be a finite number >= 0`);
  if (p.jitter !== 'full' && p.jitter !== 'equal')
    throw new TypeError("retry.jitter must be 'full' or 'equal'");
  return p;
}

const DELTA_SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/;
// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 ...`), asctime (`Sun Nov  6 ...`).
const HTTP_DATE = /^\s*[A-Za-z]{3,9},?\s+[A-Za-z0-9]/;

/**
 * Retry-After in milliseconds: delta-seconds (Graph sends fractional values
 * such as `2.128`) or an HTTP-date, taken relative to `nowMs` (a date in the
 * past gives 0). Missing, negative or unparsable values give `undefined`.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const delta = DELTA_SECONDS.exec(header);
  if (delta) {
    const ms = Math.round(Number(delta[1]) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (!HTTP_DATE.test(header)) return undefined;
  const at = Date.parse(header);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, Math.ceil(at - nowMs));
}

/**
 * Backoff before attempt `attempt + 1`, after `attempt` (>= 1) failed ones:
 * `baseDelayMs * 2^(attempt-1)` capped at `maxDelayMs`, with jitter.
 * `random` returns [0, 1) like Math.random.
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'jitter'>,
  random: () => number,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(n - 1, 52));
  const r = Math.min(Math.max(random(), 0), 1);
  const delay = policy.jitter === 'full' ? step * r : step / 2 + (step / 2) * r;
  return Math.round(Math.min(delay, policy.maxDelayMs));
}

/**
 * How long to wait before retrying: Retry-After (429/503/504) if given, else
 * backoff; `undefined` when Retry-After asks for longer than `maxRetryAfterMs`
 * (do not retry: coming back early only earns another refusal).
 */
export function retryDelay(
  attempt: number,
  status: number | undefined,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  if (retryAfterMs !== undefined && (status === 429 || status === 503 || status === 504))
    return retryAfterMs <= policy.maxRetryAfterMs ? retryAfterMs : undefined;
  return backoffDelay(attempt, policy, random);
}

/**
 * Connection errors that happen before a single byte of the request is
 * written: DNS failures, refused or timed-out connects. Only these are
 * retried for a request that must not run twice (`ifNotProcessed`).
 */
export const CONNECT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The per-attempt timeout of the HTTP adapter (not an OS error code). */
export const TIMEOUT_ERROR_CODE = 'TIMEOUT';

/** Transport errors worth another attempt of an idempotent request. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  ...CONNECT_ERROR_CODES,
  TIMEOUT_ERROR_CODE,
  'ECONNRESET',
  'ECONNABORTED',
  'ENETRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

export interface RetryInput {
  mode: RetryMode;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Transport error code (`ECONNRESET`, `UND_ERR_SOCKET`, `TIMEOUT`...), when none did. */
  errorCode?: string;
  /** Whether the request may have reached the server (false only when known not to have). */
  sent: boolean;
  /** How the request authenticates (default `app`): only the app token can be refreshed. */
  auth?: 'app' | 'bearer';
  /** The token was already refreshed once for this request. */
  tokenRefreshed?: boolean;
}

export type RetryDecision = 'retry' | 'refreshToken' | 'fail';

/**
 * Whether a failed attempt is worth repeating (the attempt budget is the
 * caller's business).
 * - 401 with the app token: refresh the token once and retry, in any mode
 *   (a rejected token means nothing was processed).
 * - `always`: 429 and 5xx; transport errors and timeouts.
 * - `ifNotProcessed`: 429 and 503 only, and connection errors from before the
 *   request was sent; never 500/502/504, resets or timeouts once sent.
 * - `never`: no retries.
 * Other 4xx (400, 403, 404, 409, ...) are never retried.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { mode, status, errorCode } = input;
  if (status === 401) {
    return (input.auth ?? 'app') === 'app' && !input.tokenRefreshed ? 'refreshToken' : 'fail';
  }
  if (mode === 'never') return 'fail';
  if (status !== undefined) {
    if (mode === 'ifNotProcessed') return status === 429 || status === 503 ? 'retry' : 'fail';
    return status >= 500 && status <= 599 ? 'retry' : status === 429 ? 'retry' : 'fail';
  }
  if (errorCode === undefined) return 'fail';
  if (mode === 'ifNotProcessed') return !input.sent && CONNECT_ERROR_CODES.has(errorCode) ? 'retry' : 'fail';
  return TRANSIENT_ERROR_CODES.has(errorCode) ? 'retry' : 'fail';
}
