/**
 * The production HttpAdapter: undici with a pooled keep-alive Agent, retries
 * and timeouts on the injected Clock, one client-request-id per logical
 * request, and GraphError for every failure. Tokens never leave the
 * Authorization header: not in errors, messages or attempt events.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { GraphError, redact } from '../graph/errors.js';
import { GraphErrorBodySchema } from '../graph/schemas.js';
import { checkUndiciHttpOptions } from '../options/adapters.js';
import { type Clock, sleep, systemClock, trackWork } from './clock.js';
import type { HttpAdapter, HttpAttemptEvent, HttpRequest, HttpResponse, RetryMode } from './http.js';
import {
  CONNECT_ERROR_CODES,
  decideRetry,
  parseRetryAfter,
  type RetryPolicy,
  resolveRetryPolicy,
  retryDelay,
  TIMEOUT_ERROR_CODE,
} from './retry-policy.js';
import type { TokenProvider } from './token.js';

export interface UndiciHttpOptions {
  /** Source of the app token (`auth: 'app'`). Never asked for `auth: { bearer }` requests. */
  token: TokenProvider;
  /** Timeouts and retry waits run on this clock (default: the wall clock). */
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  /** Per attempt, until the JSON body is read (or the headers, for streams). Default 30 s. */
  timeoutMs?: number;
  /** Connections per origin of the own Agent (default 128). */
  connections?: number;
  /** Use this dispatcher instead of an own Agent; `close()` then leaves it open. */
  dispatcher?: Dispatcher;
  /** Jitter source, [0, 1) (default Math.random). */
  random?: () => number;
  /** Called after every attempt; exceptions are ignored. */
  onAttempt?: (event: HttpAttemptEvent) => void;
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTIONS = 128;
/**
 * undici's own headers/body timeouts run on real time; the Clock-driven
 * per-attempt timeout is the real one, these only catch a wedged socket
 * (a stream body stalls for this long between chunks).
 */
const BACKSTOP_MS = 10 * 60_000;
/** Largest JSON body read into memory; Graph's call resources are a few KB. */
const MAX_JSON_BYTES = 8 * 1024 * 1024;
/** Largest error body read to find Graph's error code; the rest is dropped. */
const MAX_ERROR_BYTES = 64 * 1024;
const DEFAULT_USER_AGENT = 'graph-call-machines';

type Outcome =
  | {
      type: 'ok';
      status: number;
      headers: Record<string, string | undefined>;
      json?: unknown;
      body?: Readable;
    }
  | {
      type: 'status';
      status: number;
      statusText: string;
      headers: Record<string, string | undefined>;
      code?: string;
      message?: string;
      innerRequestId?: string;
    }
  | {
      type: 'error';
      kind: 'network' | 'timeout' | 'aborted' | 'auth' | 'invalidResponse';
      code: string;
      message: string;
    };

export function createUndiciHttp(options: UndiciHttpOptions): HttpAdapter {
  checkUndiciHttpOptions(options); // OptionsError before any connection
  const clock = options.clock ?? systemClock;
  const policy = resolveRetryPolicy(options.retry);
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const random = options.random ?? Math.random;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const own = options.dispatcher
    ? undefined
    : new Agent({
        connections: options.connections ?? DEFAULT_CONNECTIONS,
        headersTimeout: BACKSTOP_MS,
        bodyTimeout: BACKSTOP_MS,
      });
  const dispatcher: Dispatcher = options.dispatcher ?? own!;

  const onAttempt = options.onAttempt;

  /** `base` is only built when there is a hook: a request without one allocates no events. */
  function emit(
    base: AttemptBase | undefined,
    extra: Pick<HttpAttemptEvent, 'status' | 'error' | 'retryInMs'>,
  ) {
    if (!base || !onAttempt) return;
    try {
      onAttempt({ ...base, ...extra });
    } catch {
      // A logging hook must not break the request.
    }
  }

  async function request(req: HttpRequest): Promise<HttpResponse> {
    const operation = req.operation || `${req.method}`;
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new GraphError({ kind: 'invalidRequest', message: `${operation}: invalid URL`, operation });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new GraphError({
        kind: 'invalidRequest',
        message: `${operation}: URL must be http(s)`,
        operation,
      });
    const bearer = req.auth === 'app' ? undefined : req.auth?.bearer;
    if (req.auth !== 'app' && !bearer)
      throw new GraphError({
        kind: 'invalidRequest',
        message: `${operation}: empty bearer token`,
        operation,
      });

    const clientRequestId = randomUUID();
    const mode: RetryMode = req.retry ?? 'always';
    const maxAttempts = Math.max(1, Math.floor(req.maxAttempts ?? policy.maxAttempts) || 1);
    const timeoutMs = req.timeoutMs ?? defaultTimeout;
    const bodyText = req.body === undefined ? undefined : JSON.stringify(req.body);
    const auth = req.auth === 'app' ? 'app' : 'bearer';

    let attempt = 0;
    let refreshed = false;
    let forceRefresh = false;
    for (;;) {
      if (req.signal?.aborted) throw abortedError(operation, clientRequestId, attempt);
      attempt++;
      // The 401 refresh retry does not use up the retry budget.
      const canRetry = attempt - (refreshed ? 1 : 0) < maxAttempts;
      const started = clock.now();
      const outcome = await trackWork(
        clock,
        runAttempt({
          req,
          url,
          bodyText,
          bearer,
          forceRefresh,
          clientRequestId,
          timeoutMs,
          // Known before the body is read, so a retried 503 can drop its connection.
          reset503: canRetry && decideRetry({ mode, status: 503, sent: true, auth }) === 'retry',
        }),
      );
      forceRefresh = false;
      const durationMs = clock.now() - started;
      const base: AttemptBase | undefined = onAttempt
        ? {
            operation,
            method: req.method,
            url: `${url.origin}${url.pathname}`,
            clientRequestId,
            attempt,
            durationMs,
          }
        : undefined;

      if (outcome.type === 'ok') {
        emit(base, { status: outcome.status });
        return {
          status: outcome.status,
          headers: outcome.headers,
          requestId: outcome.headers['request-id'],
          clientRequestId,
          attempts: attempt,
          ...(req.stream ? { body: outcome.body } : { json: outcome.json }),
        };
      }

      if (outcome.type === 'error' && (outcome.kind === 'aborted' || outcome.kind === 'auth')) {
        emit(base, { error: outcome.message });
        throw new GraphError({
          kind: outcome.kind,
          code: outcome.kind === 'auth' ? outcome.code : undefined,
          message: `${operation}: ${outcome.message}`,
          clientRequestId,
          attempts: attempt,
          operation,
        });
      }

      const status = outcome.type === 'status' ? outcome.status : undefined;
      const retryAfterMs =
        outcome.type === 'status' ? parseRetryAfter(outcome.headers['retry-after'], clock.now()) : undefined;
      const decision =
        outcome.type === 'error' && outcome.kind === 'invalidResponse'
          ? 'fail'
          : decideRetry({
              mode,
              status,
              errorCode: outcome.type === 'error' ? outcome.code : undefined,
              sent: outcome.type === 'status' || !CONNECT_ERROR_CODES.has(outcome.code),
              auth,
              tokenRefreshed: refreshed,
            });
      const what = outcome.type === 'status' ? { status: outcome.status } : { error: outcome.message };

      if (decision === 'refreshToken') {
        refreshed = true;
        forceRefresh = true;
        emit(base, { ...what, retryInMs: 0 });
        continue;
      }
      const wait =
        decision === 'retry' && canRetry
          ? retryDelay(attempt - (refreshed ? 1 : 0), status, retryAfterMs, policy, random)
          : undefined;
      if (wait !== undefined) {
        emit(base, { ...what, retryInMs: wait });
        try {
          await sleep(clock, wait, req.signal);
        } catch {
          throw abortedError(operation, clientRequestId, attempt);
        }
        continue;
      }

      emit(base, what);
      if (outcome.type === 'status') {
        const requestId = outcome.headers['request-id'] ?? outcome.innerRequestId;
        const detail = outcome.code
          ? `${outcome.code}${outcome.message ? `: ${outcome.message}` : ''}`
          : outcome.statusText;
        throw new GraphError({
          kind: 'http',
          status: outcome.status,
          code: outcome.code,
          message: redact(`${operation}: ${outcome.status}${detail ? ` ${detail}` : ''}`),
          requestId,
          clientRequestId,
          retryAfterMs,
          attempts: attempt,
          operation,
        });
      }
      throw new GraphError({
        kind: outcome.kind,
        code: outcome.code,
        message: `${operation}: ${outcome.message}`,
        clientRequestId,
        attempts: attempt,
        operation,
      });
    }
  }

  interface AttemptInput {
    req: HttpRequest;
    url: URL;
    bodyText: string | undefined;
    bearer: string | undefined;
    forceRefresh: boolean;
    clientRequestId: string;
    timeoutMs: number;
    reset503: boolean;
  }

  /** One HTTP exchange. Never rejects: every ending is an Outcome. */
  async function runAttempt(a: AttemptInput): Promise<Outcome> {
    const { req } = a;
    // The attempt's clock starts before the token fetch, so a hung token provider times out too.
    const signal = new AttemptSignal();
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      signal.abort(new Error('attempt timed out'));
    }, a.timeoutMs);
    const onUserAbort = () => signal.abort(req.signal?.reason);
    if (req.signal?.aborted) onUserAbort();
    else req.signal?.addEventListener('abort', onUserAbort, { once: true });
    // A returned stream outlives the attempt: the user's abort stays linked until it closes.
    let keepLinked = false;
    try {
      let token = a.bearer;
      if (token === undefined) {
        try {
          token = await untilAborted(
            options.token.getToken(a.forceRefresh ? { forceRefresh: true } : undefined),
            signal,
          );
          if (typeof token !== 'string' || token === '')
            throw new Error('the token provider returned no token');
        } catch (err) {
          if (timedOut)
            return {
              type: 'error',
              kind: 'auth',
              code: 'tokenTimeout',
              message: `no app token within ${a.timeoutMs} ms`,
            };
          if (req.signal?.aborted) return ABORTED;
          return { type: 'error', kind: 'auth', code: 'tokenUnavailable', message: tokenFailure(err) };
        }
      }

      const headers: Record<string, string> = {};
      if (req.headers) for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
      headers['client-request-id'] = a.clientRequestId;
      headers.authorization = `Bearer ${token}`;
      headers.accept ??= req.stream ? '*/*' : 'application/json';
      headers['user-agent'] ??= userAgent;
      if (a.bodyText !== undefined) headers['content-type'] = 'application/json';

      try {
        const res = await new Promise<Dispatcher.ResponseData>((resolve, reject) => {
          try {
            dispatcher.request(
              {
                origin: a.url.origin,
                path: `${a.url.pathname}${a.url.search}`,
                method: req.method,
                headers,
                body: a.bodyText,
                signal,
                headersTimeout: BACKSTOP_MS,
                bodyTimeout: BACKSTOP_MS,
              },
              (err, data) => {
                if (err) return reject(err);
                // Graph asks to retry a 503 over a new connection. This callback
                // runs inside undici's header parsing, before the response is
                // complete, so destroying the body here destroys its socket
                // instead of returning it to the pool.
                if (data.statusCode === 503 && a.reset503) {
                  data.body.on('error', noop);
                  data.body.destroy();
                }
                resolve(data);
              },
            );
          } catch (err) {
            reject(err);
          }
        });

        const resHeaders = flattenHeaders(res.headers);
        const status = res.statusCode;
        if (status >= 200 && status < 300) {
          if (req.stream) {
            // The body outlives the attempt: no timeout, but a user abort still ends it.
            keepLinked = true;
            res.body.once('close', () => req.signal?.removeEventListener('abort', onUserAbort));
            return { type: 'ok', status, headers: resHeaders, body: res.body };
          }
          const text = await readText(res.body, MAX_JSON_BYTES, resHeaders['content-length']);
          if (text === undefined)
            return {
              type: 'error',
              kind: 'invalidResponse',
              code: 'bodyTooLarge',
              message: `response body over ${MAX_JSON_BYTES} bytes`,
            };
          return { type: 'ok', status, headers: resHeaders, json: parseJson(text) };
        }

        const statusText = (res as { statusText?: string }).statusText ?? '';
        if (res.body.destroyed) return { type: 'status', status, statusText, headers: resHeaders };
        const text = await readText(res.body, MAX_ERROR_BYTES, resHeaders['content-length']);
        const parsed = GraphErrorBodySchema.safeParse(text === undefined ? undefined : parseJson(text));
        if (!parsed.success) return { type: 'status', status, statusText, headers: resHeaders };
        const inner = parsed.data.error.innerError ?? parsed.data.error.innererror;
        const innerRequestId = inner?.['request-id'] ?? inner?.requestId;
        return {
          type: 'status',
          status,
          statusText,
          headers: resHeaders,
          code: parsed.data.error.code,
          message: parsed.data.error.message.slice(0, 500),
          innerRequestId: typeof innerRequestId === 'string' ? innerRequestId : undefined,
        };
      } catch (err) {
        if (timedOut)
          return {
            type: 'error',
            kind: 'timeout',
            code: TIMEOUT_ERROR_CODE,
            message: `timed out after ${a.timeoutMs} ms`,
          };
        if (req.signal?.aborted) return ABORTED;
        const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
        const code = String(e?.code ?? e?.cause?.code ?? 'UNKNOWN');
        const message = redact(String(e?.message ?? err)).slice(0, 300);
        return { type: 'error', kind: 'network', code, message: `network error ${code}: ${message}` };
      }
    } finally {
      clock.clearTimeout(timer);
      if (!keepLinked) req.signal?.removeEventListener('abort', onUserAbort);
    }
  }

  let closing: Promise<void> | undefined;
  return {
    request,
    close() {
      closing ??= own ? own.close() : Promise.resolve();
      return closing;
    },
  };
}

function noop() {}

const ABORTED: Outcome = Object.freeze({
  type: 'error',
  kind: 'aborted',
  code: 'ABORTED',
  message: 'aborted',
});

type AttemptBase = Omit<HttpAttemptEvent, 'status' | 'error' | 'retryInMs'>;

function abortedError(operation: string, clientRequestId: string, attempts: number): GraphError {
  return new GraphError({
    kind: 'aborted',
    message: `${operation}: aborted`,
    clientRequestId,
    attempts,
    operation,
  });
}

/**
 * The per-attempt abort signal, also handed to undici (which accepts an
 * EventEmitter with `aborted` and `reason`). On Node 20 an AbortController
 * plus its EventTarget listeners (ours and undici's) cost about a third of
 * the client CPU of a keepAlive POST; this costs a fraction of that
 * (bench/keepalive-throughput.ts).
 */
class AttemptSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  /** Our own wait on this signal (the token), without listener bookkeeping. */
  onAbort: (() => void) | undefined = undefined;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new Error('aborted');
    this.onAbort?.();
    this.emit('abort');
  }
}

/** `work`, or a rejection as soon as `signal` aborts (the work itself cannot be cancelled). */
function untilAborted<T>(work: Promise<T>, signal: AttemptSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    signal.onAbort = () => reject(signal.reason);
    work.then(
      (v) => {
        signal.onAbort = undefined;
        resolve(v);
      },
      (e) => {
        signal.onAbort = undefined;
        reject(e);
      },
    );
  });
}

function tokenFailure(err: unknown): string {
  const detail = err instanceof Error ? err.message : String(err);
  return redact(`could not get an app token: ${detail}`).slice(0, 300);
}

function flattenHeaders(
  h: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Read a body as UTF-8 up to `limit` bytes. Over the limit the body is
 * destroyed (its connection is not reused) and `undefined` returned.
 */
function readText(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  contentLength: string | undefined,
): Promise<string | undefined> {
  // A declared length within the limit (HTTP framing holds the body to it):
  // undici's own reader, without an async iterator per response.
  if (contentLength !== undefined && /^\d{1,9}$/.test(contentLength) && Number(contentLength) <= limit)
    return body.text();
  return readChunks(body, limit);
}

async function readChunks(body: Readable, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
