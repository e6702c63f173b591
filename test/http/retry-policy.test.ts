import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  parseRetryAfter,
  resolveRetryPolicy,
  retryDelay,
} from '../../src/adapters/retry-policy.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('parseRetryAfter', () => {
  it('reads whole and fractional seconds as milliseconds', () => {
    expect(parseRetryAfter('2.128', NOW)).toBe(2128);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30_000);
    expect(parseRetryAfter('0.5', NOW)).toBe(500);
  });

  it('reads an HTTP-date relative to now; a past date is 0', () => {
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:10 GMT', NOW)).toBe(10_000);
    expect(parseRetryAfter('Thursday, 01-Jan-26 12:00:10 GMT', NOW)).toBe(10_000);
    expect(parseRetryAfter(new Date(NOW - 5_000).toUTCString(), NOW)).toBe(0);
  });

  it('gives undefined for missing, negative or garbage values', () => {
    for (const bad of [undefined, '', '-1', '-0.5', 'soon', '1e3', '2.', '.5', 'Thu, 99 Foo 2026', '12abc'])
      expect(parseRetryAfter(bad, NOW), String(bad)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const policy = DEFAULT_RETRY_POLICY;

  it('doubles from baseDelayMs with equal jitter by default', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0.999999))).toEqual([500, 1000, 2000, 4000]);
  });

  it('supports full jitter', () => {
    const full = { ...policy, jitter: 'full' as const };
    expect(backoffDelay(3, full, () => 0)).toBe(0);
    expect(backoffDelay(3, full, () => 0.5)).toBe(1000);
  });

  it('is capped at maxDelayMs, also for huge attempt numbers', () => {
    expect(backoffDelay(20, policy, () => 0.999999)).toBe(30_000);
    expect(backoffDelay(5000, policy, () => 1)).toBe(30_000);
    expect(backoffDelay(5000, policy, () => 0)).toBe(15_000);
  });

  it('prefers Retry-After for 429/503/504; none past maxRetryAfterMs', () => {
    expect(retryDelay(1, 429, 2128, policy, () => 0)).toBe(2128);
    expect(retryDelay(1, 503, 120_000, policy, () => 0)).toBe(120_000);
    expect(retryDelay(1, 503, 120_001, policy, () => 0)).toBeUndefined();
    expect(retryDelay(1, 504, 1000, policy, () => 0)).toBe(1000);
    expect(retryDelay(1, 500, 1000, policy, () => 0)).toBe(250);
    expect(retryDelay(2, 429, undefined, policy, () => 0)).toBe(500);
  });
});

describe('resolveRetryPolicy', () => {
  it('merges over the defaults and rejects nonsense', () => {
    expect(resolveRetryPolicy({ maxAttempts: 2 })).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 2 });
    expect(DEFAULT_RETRY_POLICY).toMatchObject({
      maxAttempts: 4,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      maxRetryAfterMs: 120_000,
    });
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(TypeError);
    expect(() => resolveRetryPolicy({ baseDelayMs: -1 })).toThrow(TypeError);
  });
});

describe('decideRetry', () => {
  const sent = true;

  it('mode always: 429, 503, 504 and other 5xx retry; 4xx never', () => {
    for (const status of [429, 500, 502, 503, 504, 599])
      expect(decideRetry({ mode: 'always', status, sent }), String(status)).toBe('retry');
    for (const status of [400, 403, 404, 405, 408, 409, 410, 412, 422])
      expect(decideRetry({ mode: 'always', status, sent }), String(status)).toBe('fail');
  });

  it('mode always: transport errors and timeouts retry, unknown errors do not', () => {
    for (const errorCode of [
      'ECONNRESET',
      'UND_ERR_SOCKET',
      'TIMEOUT',
      'ECONNREFUSED',
      'UND_ERR_CONNECT_TIMEOUT',
    ])
      expect(decideRetry({ mode: 'always', errorCode, sent }), errorCode).toBe('retry');
    expect(decideRetry({ mode: 'always', errorCode: 'UND_ERR_INVALID_ARG', sent })).toBe('fail');
    expect(decideRetry({ mode: 'always', errorCode: 'UND_ERR_DESTROYED', sent })).toBe('fail');
    expect(decideRetry({ mode: 'always', sent })).toBe('fail');
  });

  it('mode ifNotProcessed: only 429, 503 and connection errors from before sending', () => {
    expect(decideRetry({ mode: 'ifNotProcessed', status: 429, sent })).toBe('retry');
    expect(decideRetry({ mode: 'ifNotProcessed', status: 503, sent })).toBe('retry');
    for (const status of [500, 502, 504, 400, 404, 409])
      expect(decideRetry({ mode: 'ifNotProcessed', status, sent }), String(status)).toBe('fail');
    for (const errorCode of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])
      expect(decideRetry({ mode: 'ifNotProcessed', errorCode, sent: false }), errorCode).toBe('retry');
    for (const errorCode of ['ECONNRESET', 'UND_ERR_SOCKET', 'TIMEOUT', 'EPIPE'])
      expect(decideRetry({ mode: 'ifNotProcessed', errorCode, sent }), errorCode).toBe('fail');
    // Even a connect-phase code is not retried when the caller says bytes went out.
    expect(decideRetry({ mode: 'ifNotProcessed', errorCode: 'ECONNREFUSED', sent: true })).toBe('fail');
    // And "not sent" alone is not enough: only codes that prove it.
    expect(decideRetry({ mode: 'ifNotProcessed', errorCode: 'ECONNRESET', sent: false })).toBe('fail');
  });

  it('mode never: nothing but the token refresh', () => {
    expect(decideRetry({ mode: 'never', status: 503, sent })).toBe('fail');
    expect(decideRetry({ mode: 'never', errorCode: 'ECONNREFUSED', sent: false })).toBe('fail');
    expect(decideRetry({ mode: 'never', status: 401, sent })).toBe('refreshToken');
  });

  it('401: refresh the app token once, in any mode; never for a bearer', () => {
    for (const mode of ['always', 'ifNotProcessed', 'never'] as const) {
      expect(decideRetry({ mode, status: 401, sent })).toBe('refreshToken');
      expect(decideRetry({ mode, status: 401, sent, tokenRefreshed: true })).toBe('fail');
      expect(decideRetry({ mode, status: 401, sent, auth: 'bearer' })).toBe('fail');
    }
  });
});
