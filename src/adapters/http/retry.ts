/**
 * Retries on the injected Clock (undici's retry interceptor waits on real
 * timers, skips POST and caps Retry-After at 30 s, so this one is ours): the
 * same client-request-id on every attempt, Retry-After or backoff with jitter,
 * one token refresh after a 401 (outside the attempt budget), a 503 retried on
 * a new connection, and a non-idempotent POST repeated only when Graph surely
 * did not process it (retry-policy.ts decides). It also ends each attempt
 * (`control.end()`: the deadline and the caller's signal let go). Without a
 * tracking clock the first attempt costs one `then` (and one event with a hook); events
 * are built only when someone listens.
 */
import { type Clock, sleep, trackWork } from '../clock.js';
import type { HttpAttemptEvent, HttpResponse, RetryMode } from '../http.js';
import {
  CONNECT_ERROR_CODES,
  decideRetry,
  parseRetryAfter,
  type RetryPolicy,
  retryDelay,
} from '../retry-policy.js';
import type { Attempt, Outcome, Send } from './attempt.js';
import { abortedError, toGraphError } from './graph-errors.js';

export interface RetryOptions {
  clock: Clock;
  policy: RetryPolicy;
  random: () => number;
  onAttempt?: (event: HttpAttemptEvent) => void;
}

type AttemptBase = Omit<HttpAttemptEvent, 'status' | 'error' | 'retryInMs'>;

/** `base` is only built when there is a hook: a request without one allocates no events. */
function emit(
  onAttempt: RetryOptions['onAttempt'],
  base: AttemptBase | undefined,
  extra: Pick<HttpAttemptEvent, 'status' | 'error' | 'retryInMs'>,
): void {
  if (!base || !onAttempt) return;
  try {
    onAttempt({ ...base, ...extra });
  } catch {
    // A logging hook must not break the request.
  }
}

function okResponse(
  outcome: Extract<Outcome, { type: 'ok' }>,
  stream: boolean | undefined,
  clientRequestId: string,
  attempts: number,
): HttpResponse {
  const res: HttpResponse = {
    status: outcome.status,
    headers: outcome.headers,
    requestId: outcome.headers['request-id'],
    clientRequestId,
    attempts,
  };
  if (stream) res.body = outcome.body;
  else res.json = outcome.json;
  return res;
}

/** Run `a` through `send` until it succeeds or the policy says stop; rejects with a GraphError. */
export function sendWithRetries(
  send: Send,
  a: Attempt,
  operation: string,
  clientRequestId: string,
  o: RetryOptions,
): Promise<HttpResponse> {
  const req = a.req;
  if (o.clock.track || req.signal?.aborted)
    return retryLoop(send, a, operation, clientRequestId, o, undefined, 0);
  // The common case, without a tracking clock: the first attempt costs one `then` (and, with a
  // hook, one event: the live view's request list must not send every request down the loop).
  const onAttempt = o.onAttempt;
  const started = onAttempt ? o.clock.now() : 0;
  a.reset503 = reset503(a, 1, o);
  return send(a).then((outcome) => {
    a.control.end();
    if (outcome.type !== 'ok') return retryLoop(send, a, operation, clientRequestId, o, outcome, started);
    if (onAttempt)
      emit(onAttempt, attemptBase(a, operation, clientRequestId, 1, o.clock.now() - started), {
        status: outcome.status,
      });
    return okResponse(outcome, req.stream, clientRequestId, 1);
  });
}

function attemptBase(
  a: Attempt,
  operation: string,
  clientRequestId: string,
  attempt: number,
  durationMs: number,
): AttemptBase {
  return {
    operation,
    method: a.req.method,
    url: `${a.origin}${a.path.split('?')[0]}`,
    clientRequestId,
    attempt,
    durationMs,
  };
}

/** A 503 on this attempt will be retried: known before the body is read, so its connection can be dropped. */
function reset503(a: Attempt, attempt: number, o: RetryOptions, refreshed = false): boolean {
  const maxAttempts = Math.max(1, Math.floor(a.req.maxAttempts ?? o.policy.maxAttempts) || 1);
  // The 401 refresh retry does not use up the retry budget.
  const canRetry = attempt - (refreshed ? 1 : 0) < maxAttempts;
  const auth = a.req.auth === 'app' ? 'app' : 'bearer';
  return (
    canRetry && decideRetry({ mode: a.req.retry ?? 'always', status: 503, sent: true, auth }) === 'retry'
  );
}

async function retryLoop(
  send: Send,
  a: Attempt,
  operation: string,
  clientRequestId: string,
  o: RetryOptions,
  /** The first attempt's outcome, when it already ran. */
  first: Outcome | undefined,
  /** When that first attempt started (clock ms). */
  firstStarted: number,
): Promise<HttpResponse> {
  const { req } = a;
  const { clock, onAttempt } = o;
  const mode: RetryMode = req.retry ?? 'always';
  const maxAttempts = Math.max(1, Math.floor(req.maxAttempts ?? o.policy.maxAttempts) || 1);
  // Only the app token can be refreshed after a 401: a request's own bearer or 'none' cannot.
  const auth = req.auth === 'app' ? 'app' : 'bearer';
  const tracked = clock.track !== undefined;

  let attempt = 0;
  let refreshed = false;
  let ran = first;
  for (;;) {
    if (!ran && req.signal?.aborted) throw abortedError(operation, clientRequestId, attempt);
    attempt++;
    // The 401 refresh retry does not use up the retry budget.
    const canRetry = attempt - (refreshed ? 1 : 0) < maxAttempts;
    let outcome: Outcome;
    const started = ran ? firstStarted : onAttempt ? clock.now() : 0;
    if (ran) {
      outcome = ran;
      ran = undefined;
    } else {
      a.reset503 = reset503(a, attempt, o, refreshed);
      outcome = await (tracked ? trackWork(clock, send(a)) : send(a));
      a.control.end();
    }
    a.forceRefresh = false;
    const base = onAttempt
      ? attemptBase(a, operation, clientRequestId, attempt, clock.now() - started)
      : undefined;

    if (outcome.type === 'ok') {
      emit(onAttempt, base, { status: outcome.status });
      return okResponse(outcome, req.stream, clientRequestId, attempt);
    }

    if (outcome.type === 'error' && (outcome.kind === 'aborted' || outcome.kind === 'auth')) {
      emit(onAttempt, base, { error: outcome.message });
      throw toGraphError(outcome, { operation, clientRequestId, attempts: attempt });
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
      a.forceRefresh = true;
      emit(onAttempt, base, { ...what, retryInMs: 0 });
      continue;
    }
    const wait =
      decision === 'retry' && canRetry
        ? retryDelay(attempt - (refreshed ? 1 : 0), status, retryAfterMs, o.policy, o.random)
        : undefined;
    if (wait !== undefined) {
      emit(onAttempt, base, { ...what, retryInMs: wait });
      try {
        await sleep(clock, wait, req.signal);
      } catch {
        throw abortedError(operation, clientRequestId, attempt);
      }
      continue;
    }

    emit(onAttempt, base, what);
    throw toGraphError(outcome, { operation, clientRequestId, attempts: attempt, retryAfterMs });
  }
}
