/**
 * One HTTP exchange on any undici Dispatcher (our Agent, or the user's
 * ProxyAgent, MockAgent or composed dispatcher). A JSON answer is collected by
 * a small dispatch handler straight from undici's parser: no Readable, no
 * body mixin, no AbortSignal per request (about a quarter of the client CPU of
 * a keepAlive POST went there, bench/keepalive-throughput.ts). A stream
 * answer (a download) goes through undici's request API, whose body stream
 * handles backpressure.
 */
import { EventEmitter } from 'node:events';
import { type Dispatcher, util } from 'undici';
import { redact } from '../../graph/errors.js';
import { TIMEOUT_ERROR_CODE } from '../retry-policy.js';
import { ABORTED, type Attempt, type Outcome, type Send } from './attempt.js';
import { errorOutcome, flattenHeaders, parseJson } from './graph-errors.js';

/**
 * undici's own headers/body timeouts run on real time; the Clock-driven
 * per-attempt timeout is the real one, these only catch a wedged socket
 * (a stream body stalls for this long between chunks).
 */
export const BACKSTOP_MS = 10 * 60_000;
/** Largest JSON body read into memory; Graph's call resources are a few KB. */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;
/** Largest error body read to find Graph's error code; the rest is dropped. */
export const MAX_ERROR_BYTES = 64 * 1024;

/**
 * `backstopSet`: the dispatcher already has the BACKSTOP_MS timeouts (our own Agent), so the
 * request need not carry them (undici then checks two fewer options per request).
 */
export function transport(dispatcher: Dispatcher, backstopSet = false): Send {
  const options = backstopSet ? plainOptions : backstopOptions;
  return (a) =>
    a.req.stream ? streamExchange(dispatcher, a, options) : bufferedExchange(dispatcher, a, options);
}

type OptionsOf = (a: Attempt) => Dispatcher.DispatchOptions;

const plainOptions: OptionsOf = (a) => ({
  origin: a.origin,
  path: a.path,
  method: a.req.method,
  headers: a.headers,
  body: a.bodyText,
});

const backstopOptions: OptionsOf = (a) => ({
  ...plainOptions(a),
  headersTimeout: BACKSTOP_MS,
  bodyTimeout: BACKSTOP_MS,
});

/** A transport failure (or the attempt's abort) as an Outcome; secrets redacted. */
function failure(a: Attempt, err: unknown): Outcome {
  if (a.control.cause === 'timeout')
    return {
      type: 'error',
      kind: 'timeout',
      code: TIMEOUT_ERROR_CODE,
      message: `timed out after ${a.timeoutMs} ms`,
    };
  if (a.control.cause === 'user') return ABORTED;
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  const code = String(e?.code ?? e?.cause?.code ?? 'UNKNOWN');
  const message = redact(String(e?.message ?? err)).slice(0, 300);
  return { type: 'error', kind: 'network', code, message: `network error ${code}: ${message}` };
}

function bufferedExchange(dispatcher: Dispatcher, a: Attempt, dispatchOptions: OptionsOf): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const handler = new BufferedHandler(a, resolve);
    try {
      dispatcher.dispatch(dispatchOptions(a), handler);
    } catch (err) {
      handler.onError(err as Error);
    }
  });
}

/**
 * Collects a response of known purpose: a 2xx JSON body up to MAX_JSON_BYTES (or the request's maxBytes),
 * an error body up to MAX_ERROR_BYTES (for Graph's code). Over the limit the
 * request is aborted, which closes its connection instead of reusing it.
 *
 * It speaks undici 7's own handler protocol (onConnect, onHeaders, onData,
 * onComplete, onError: what every undici 7 dispatcher calls, marked deprecated
 * in its types in favour of onRequestStart/onResponse*). Measured on Node 20
 * with undici 7.30: the newer form goes through an adapter object per request
 * whose objects outlived two scavenges, promoting about 600 bytes per keepAlive
 * into the old generation (5 mark-compacts instead of 1 per 185k requests) and
 * costing about 15% of the client CPU. Revisit with undici 8.
 */
class BufferedHandler implements Dispatcher.DispatchHandler {
  #a: Attempt;
  #resolve: (o: Outcome) => void;
  #abortRequest: ((err?: Error) => void) | undefined = undefined;
  #settled = false;
  #status = 0;
  #statusText = '';
  #headers: Record<string, string | undefined> = {};
  #chunks: Buffer[] | undefined = undefined;
  #size = 0;

  constructor(a: Attempt, resolve: (o: Outcome) => void) {
    this.#a = a;
    this.#resolve = resolve;
    // Until undici starts the request (it may wait for a socket), an abort only settles.
    a.control.onAbort = () => this.#abort(a.control.reason);
  }

  #settle(o: Outcome) {
    if (this.#settled) return;
    this.#settled = true;
    this.#a.control.onAbort = undefined;
    this.#resolve(o);
  }

  #abort(reason: unknown) {
    this.#settle(failure(this.#a, reason));
    this.#abortRequest?.(reason instanceof Error ? reason : new Error('aborted'));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abortRequest = abort;
    if (this.#a.control.aborted || this.#settled) abort(new Error('aborted'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: the final response follows
    this.#status = statusCode;
    this.#statusText = statusText ?? '';
    this.#headers = flattenHeaders(util.parseHeaders(rawHeaders) as Record<string, string | string[]>);
    if (statusCode === 503 && this.#a.reset503) {
      // Graph asks to retry a 503 over a new connection: aborting mid-response destroys the socket.
      this.#settle(this.#statusOutcome(undefined));
      this.#abortRequest?.(new Error('503: retried on a new connection'));
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#settled) return true;
    this.#size += chunk.length;
    const ok = this.#status < 300;
    const limit = ok ? (this.#a.req.maxBytes ?? MAX_JSON_BYTES) : MAX_ERROR_BYTES;
    if (this.#size > limit) {
      this.#chunks = undefined;
      this.#settle(
        ok
          ? {
              type: 'error',
              kind: 'invalidResponse',
              code: 'bodyTooLarge',
              message: `response body over ${limit} bytes`,
            }
          : this.#statusOutcome(undefined),
      );
      this.#abortRequest?.(new Error('response body over the limit'));
      return true;
    }
    if (this.#chunks) this.#chunks.push(chunk);
    else this.#chunks = [chunk];
    return true;
  }

  onComplete(): void {
    if (this.#settled) return;
    const c = this.#chunks;
    const text = !c ? '' : (c.length === 1 ? c[0]! : Buffer.concat(c)).toString('utf8');
    if (this.#status < 300)
      this.#settle({ type: 'ok', status: this.#status, headers: this.#headers, json: parseJson(text) });
    else this.#settle(this.#statusOutcome(text));
  }

  onError(err: Error): void {
    this.#settle(failure(this.#a, err));
  }

  #statusOutcome(text: string | undefined): Outcome {
    return errorOutcome(this.#status, this.#statusText, this.#headers, text);
  }
}

/**
 * The per-attempt signal handed to undici's request API (it accepts an
 * EventEmitter with `aborted` and `reason`), cheaper than an AbortController.
 */
class AttemptSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason instanceof Error ? reason : new Error('aborted');
    this.emit('abort');
  }
}

async function streamExchange(
  dispatcher: Dispatcher,
  a: Attempt,
  dispatchOptions: OptionsOf,
): Promise<Outcome> {
  const signal = new AttemptSignal();
  a.control.onAbort = () => signal.abort(a.control.reason);
  if (a.control.aborted) signal.abort(a.control.reason);
  try {
    const res = await dispatcher.request({ ...dispatchOptions(a), signal });
    const headers = flattenHeaders(res.headers);
    const status = res.statusCode;
    if (status >= 200 && status < 300) {
      // The body outlives the attempt (no deadline), but the caller's abort still ends it.
      a.control.onAbort = undefined;
      const user = a.req.signal;
      if (user) {
        const onUserAbort = () => signal.abort(user.reason);
        user.addEventListener('abort', onUserAbort, { once: true });
        res.body.once('close', () => user.removeEventListener('abort', onUserAbort));
      }
      return { type: 'ok', status, headers, body: res.body };
    }
    if (status === 503 && a.reset503) {
      res.body.on('error', noop);
      res.body.destroy();
      return errorOutcome(status, '', headers, undefined);
    }
    const text = await readLimited(res.body, MAX_ERROR_BYTES);
    return errorOutcome(status, (res as { statusText?: string }).statusText ?? '', headers, text);
  } catch (err) {
    return failure(a, err);
  } finally {
    if (a.control.onAbort) a.control.onAbort = undefined;
  }
}

/** A body as UTF-8 up to `limit` bytes; over it, the body is destroyed and `undefined` returned. */
async function readLimited(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<string | undefined> {
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

function noop() {}
