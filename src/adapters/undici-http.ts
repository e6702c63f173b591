/**
 * The production HttpAdapter, composed like an undici dispatcher: a transport
 * on any undici Dispatcher (our pooled keep-alive Agent by default, or the
 * user's ProxyAgent, MockAgent or `agent.compose(...)`), wrapped in small
 * layers, one behaviour per file under ./http/: retries on the Clock
 * (retry.ts), the per-attempt deadline on the Clock (timeout.ts), the token
 * (auth.ts), the exchange (transport.ts) and Graph error mapping
 * (graph-errors.ts). One client-request-id per logical request; every failure
 * is a GraphError; tokens never leave the Authorization header.
 */
import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import { GraphError } from '../graph/errors.js';
import { checkUndiciHttpOptions } from '../options/adapters.js';
import { type Clock, systemClock } from './clock.js';
import { type Attempt, type AttemptControl, compose } from './http/attempt.js';
import { authLayer } from './http/auth.js';
import { type RetryOptions, sendWithRetries } from './http/retry.js';
import { timeoutLayer } from './http/timeout.js';
import { BACKSTOP_MS, transport } from './http/transport.js';
import { splitUrl } from './http/url.js';
import type { HttpAdapter, HttpAttemptEvent, HttpRequest, HttpResponse } from './http.js';
import { type RetryPolicy, resolveRetryPolicy } from './retry-policy.js';
import type { TokenProvider } from './token.js';

export interface UndiciHttpOptions {
  /** Source of the app token (`auth: 'app'`). Never asked for `auth: { bearer }` or `'none'` requests. */
  token: TokenProvider;
  /** Timeouts and retry waits run on this clock (default: the wall clock). */
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  /** Per attempt, until the JSON body is read (or the headers, for streams). Default 30 s. */
  timeoutMs?: number;
  /** Connections per origin of the own Agent (default 128). */
  connections?: number;
  /**
   * Send through this undici Dispatcher instead of an own Agent: a `ProxyAgent`,
   * a `MockAgent`, or an Agent composed with undici interceptors. Our retries,
   * deadline and auth still wrap it. `close()` then leaves it open.
   */
  dispatcher?: Dispatcher;
  /** Jitter source, [0, 1) (default Math.random). */
  random?: () => number;
  /** Called after every attempt; exceptions are ignored. */
  onAttempt?: (event: HttpAttemptEvent) => void;
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTIONS = 128;
const DEFAULT_USER_AGENT = 'graph-call-machines';

function invalid(operation: string, why: string): Promise<never> {
  return Promise.reject(
    new GraphError({ kind: 'invalidRequest', message: `${operation}: ${why}`, operation }),
  );
}

export function createUndiciHttp(options: UndiciHttpOptions): HttpAdapter {
  checkUndiciHttpOptions(options); // OptionsError before any connection
  const clock = options.clock ?? systemClock;
  const retry: RetryOptions = {
    clock,
    policy: resolveRetryPolicy(options.retry),
    random: options.random ?? Math.random,
    onAttempt: options.onAttempt,
  };
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const own = options.dispatcher
    ? undefined
    : new Agent({
        connections: options.connections ?? DEFAULT_CONNECTIONS,
        headersTimeout: BACKSTOP_MS,
        bodyTimeout: BACKSTOP_MS,
      });
  const dispatcher: Dispatcher = options.dispatcher ?? own!;
  // Outermost first: each retry is a new attempt with its own deadline and token.
  const send = compose(
    timeoutLayer(clock),
    authLayer(options.token),
  )(transport(dispatcher, own !== undefined));

  function request(req: HttpRequest): Promise<HttpResponse> {
    const operation = req.operation || `${req.method}`;
    const target = splitUrl(req.url);
    if (target === 'invalid') return invalid(operation, 'invalid URL');
    if (target === 'scheme') return invalid(operation, 'URL must be http(s)');
    const auth = req.auth;
    if (auth !== 'app' && auth !== 'none' && !auth?.bearer) return invalid(operation, 'empty bearer token');
    const maxBytes = req.maxBytes;
    if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0))
      return invalid(operation, 'maxBytes must be a non-negative integer');

    const clientRequestId = randomUUID();
    const bodyText = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = {};
    if (req.headers) for (const k in req.headers) headers[k.toLowerCase()] = req.headers[k]!;
    // 'none' means no Authorization header at all, not even one the caller put in `headers`.
    if (auth === 'none') delete headers.authorization;
    headers['client-request-id'] = clientRequestId;
    headers.accept ??= req.stream ? '*/*' : 'application/json';
    headers['user-agent'] ??= userAgent;
    if (bodyText !== undefined) headers['content-type'] = 'application/json';
    const attempt: Attempt = {
      req,
      origin: target.origin,
      path: target.path,
      bodyText,
      headers,
      timeoutMs: req.timeoutMs ?? defaultTimeout,
      forceRefresh: false,
      reset503: false,
      // Set by the timeout layer for each attempt. Not a shared placeholder object: measured,
      // replacing a field that always held one object deoptimised every request (about 3 µs).
      control: undefined as unknown as AttemptControl,
    };
    return sendWithRetries(send, attempt, operation, clientRequestId, retry);
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
