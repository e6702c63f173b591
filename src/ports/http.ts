/**
 * The HTTP boundary. The Graph client and the record download speak only this
 * interface; `createUndiciHttp` (undici-http.ts) is the production
 * implementation, and tests may pass any other.
 */
import type { Readable } from 'node:stream';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/**
 * When a failed attempt may be repeated.
 * - `always`: idempotent requests (keepAlive, GET, DELETE, cancelMediaProcessing).
 * - `ifNotProcessed`: non-idempotent POST (record): only 429/503 or a connection
 *   that failed before the request was sent, so Graph never starts two operations.
 * - `never`: one attempt.
 */
export type RetryMode = 'always' | 'ifNotProcessed' | 'never';

export interface HttpRequest {
  method: HttpMethod;
  /** Absolute URL. */
  url: string;
  /**
   * `'app'`: send the app token from the TokenProvider, refresh it once on 401.
   * `{ bearer }`: send exactly this token (a recordingAccessToken) and never the app token.
   * `'none'`: no Authorization header at all, the token provider never asked (public
   * documents such as the OpenID configuration and JWKS of notification tokens).
   */
  auth: 'app' | 'none' | { bearer: string };
  /** JSON body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Name for logs and errors, e.g. `keepAlive`. */
  operation: string;
  retry?: RetryMode;
  /** Attempts including the first; overrides the adapter's policy for this request. */
  maxAttempts?: number;
  /** Per-attempt timeout; overrides the adapter's default. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Return the body as a stream instead of parsing JSON (downloads). */
  stream?: boolean;
  /** Largest JSON answer accepted, in bytes; a larger one fails the request (default: the adapter's). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  /** Graph's `request-id` response header. */
  requestId: string | undefined;
  /** The `client-request-id` we sent (the same on every attempt of this request). */
  clientRequestId: string;
  /** Attempts it took, including the successful one. */
  attempts: number;
  /** Parsed JSON body (undefined when empty); absent when `stream` was requested. */
  json?: unknown;
  /** The body when `stream` was requested: consume it or destroy it. */
  body?: Readable;
}

/** What happened on one attempt; for logs, metrics and the demo timeline. */
export interface HttpAttemptEvent {
  operation: string;
  method: HttpMethod;
  /** URL without query string. */
  url: string;
  clientRequestId: string;
  attempt: number;
  status?: number;
  error?: string;
  /** How long the adapter waits (clock ms) before the next attempt, if it retries. */
  retryInMs?: number;
  durationMs: number;
}

export interface HttpAdapter {
  /** Resolves for 2xx only; anything else rejects with a `GraphError` after the retry policy. */
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}
