/**
 * Options of `createGraphClient` and `createUndiciHttp`, checked at their
 * entry points before any connection or request.
 */
import { z } from 'zod';
import { parseOptions } from './error.js';
import {
  clockSchema,
  fn,
  graphUrlSchema,
  hostListSchema,
  httpSchema,
  limitsSchema,
  positiveInt,
  tokenSchema,
  withMethods,
} from './shapes.js';

const nonNegative = (what: string) =>
  z.number({ error: `must be ${what}` }).min(0, { error: `must be ${what}` });

const retrySchema = z
  .object(
    {
      maxAttempts: positiveInt('an integer >= 1').optional(),
      baseDelayMs: nonNegative('a finite number >= 0 (ms)').optional(),
      maxDelayMs: nonNegative('a finite number >= 0 (ms)').optional(),
      maxRetryAfterMs: nonNegative('a finite number >= 0 (ms)').optional(),
      jitter: z.enum(['full', 'equal'], { error: "must be 'full' or 'equal'" }).optional(),
    },
    { error: 'must be a partial RetryPolicy object' },
  )
  .strict();

const undiciSchema = z
  .object(
    {
      token: tokenSchema,
      clock: clockSchema.optional(),
      retry: retrySchema.optional(),
      timeoutMs: positiveInt('a positive integer (ms)').optional(),
      connections: positiveInt().optional(),
      dispatcher: withMethods('an undici Dispatcher', ['dispatch']).optional(),
      random: fn('() => number in [0, 1)').optional(),
      onAttempt: fn('(event) => void').optional(),
      userAgent: z.string({ error: 'must be a string' }).optional(),
    },
    { error: 'must be an object: createUndiciHttp({ token, clock? })' },
  )
  .loose();

export function checkUndiciHttpOptions(options: unknown): void {
  parseOptions('createUndiciHttp', undiciSchema, options);
}

const graphClientSchema = z
  .object(
    {
      http: httpSchema,
      graphUrl: graphUrlSchema.optional(),
      limits: limitsSchema.optional(),
      insecureRecordingHosts: hostListSchema.optional(),
      recordingHosts: z
        .custom<unknown>((v) => typeof v === 'function' || hostListSchema.safeParse(v).success, {
          error: 'must be an array of hosts or a predicate (host) => boolean',
        })
        .optional(),
    },
    { error: 'must be an object: createGraphClient({ http, graphUrl? })' },
  )
  .loose();

export function checkGraphClientOptions(options: unknown): void {
  parseOptions('createGraphClient', graphClientSchema, options);
}
