/**
 * zod pieces shared by the option schemas. Function-valued options (clocks,
 * token providers, adapters) are checked by shape: the methods the library
 * calls must be there. Each message says what is allowed and, where a common
 * mistake has a known fix, the fix.
 */
import { z } from 'zod';
import type { Clock } from '../ports/clock.js';
import type { HttpAdapter } from '../ports/http.js';
import type { RecordingStore } from '../ports/stores.js';
import type { TokenProvider } from '../ports/token.js';

type Input = { input?: unknown };

const hasMethods = (value: unknown, methods: readonly string[]) =>
  value !== null &&
  (typeof value === 'object' || typeof value === 'function') &&
  methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');

/** An object with these methods; `what` names it in the message. */
export function withMethods<T>(what: string, methods: readonly string[], hint?: (input: unknown) => string) {
  const list = methods.map((m) => `${m}()`).join(', ');
  return z.custom<T>((v) => hasMethods(v, methods), {
    error: (iss: Input) => `must be ${what} (an object with ${list})${hint?.(iss.input) ?? ''}`,
  });
}

export const clockSchema = withMethods<Clock>('a Clock (systemClock or new SimulatedClock())', [
  'now',
  'setTimeout',
  'clearTimeout',
]);

export const tokenSchema = withMethods<TokenProvider>('a TokenProvider', ['getToken'], (input) =>
  typeof input === 'string'
    ? ": for a fixed token use staticToken('...'), for Azure credentials clientCredentials(credential)"
    : typeof input === 'function'
      ? ': wrap the function as { getToken: yourFunction }'
      : '',
);

export const httpSchema = withMethods<HttpAdapter>('an HttpAdapter (createUndiciHttp({ token }))', [
  'request',
]);

export const storeSchema = withMethods<RecordingStore>(
  'a RecordingStore (createFileRecordingStore() or createMemoryRecordingStore())',
  ['write', 'open', 'delete'],
);

export const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', {
    error: `must be a function ${what}`,
  });

export const positiveInt = (what = 'a positive integer') =>
  z
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}` })
    .positive({ error: `must be ${what}` });

export const nonEmptyString = (what: string) =>
  z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });

export const hostListSchema = z.array(z.string({ error: 'must be a host string' }).min(1), {
  error: "must be an array of hosts (`host` or `host:port`), e.g. ['127.0.0.1:4010']",
});

/** Graph's base URL with its version: the version picks `record` (beta) or `recordResponse` (v1.0). */
export function isGraphUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') && /\/(v1\.0|beta)\/?$/i.test(url.pathname)
    );
  } catch {
    return false;
  }
}

const GRAPH_URL =
  'must be the Graph base URL with its version, ending in /v1.0 or /beta (e.g. https://graph.microsoft.com/v1.0)';

export const graphUrlSchema = z.string({ error: GRAPH_URL }).refine(isGraphUrl, { error: GRAPH_URL });

const limitNumber = positiveInt();
export const limitsSchema = z
  .object(
    { maxSeconds: limitNumber, maxPrompts: z.number().int().min(0), maxClientContext: limitNumber },
    { error: 'must be a RecordLimits object (SPEC_LIMITS or CURRENT_SERVICE_LIMITS)' },
  )
  .strict();

/** A partial policy object: its fields are checked by the policy's own schema. */
export const policyObject = (what: string) =>
  z.custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), {
    error: `must be a ${what} object`,
  });
