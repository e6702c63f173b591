import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { HttpAdapter, HttpAttemptEvent, HttpRequest, HttpResponse } from '../../src/adapters/http.js';
import type { TokenProvider } from '../../src/adapters/token.js';
import { createUndiciHttp, type UndiciHttpOptions } from '../../src/adapters/undici-http.js';
import { GraphError } from '../../src/graph/errors.js';
import {
  graphError,
  type Loopback,
  type Responder,
  reply,
  resetConnection,
  startLoopback,
} from './loopback.js';

const SECRET = 'app-token-SECRET-0001';

/** A token provider that counts calls and hands out a new token on forceRefresh. */
function countingToken() {
  const calls: Array<{ forceRefresh?: boolean } | undefined> = [];
  let n = 1;
  const provider: TokenProvider = {
    async getToken(opts) {
      calls.push(opts);
      if (opts?.forceRefresh) n++;
      return `${SECRET}-${n}`;
    },
  };
  return { provider, calls };
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(script: Responder | Responder[], opts: Partial<UndiciHttpOptions> = {}) {
  const clock = new SimulatedClock();
  const server = await startLoopback(script, clock);
  const token = countingToken();
  const events: HttpAttemptEvent[] = [];
  const http = createUndiciHttp({
    token: token.provider,
    clock,
    random: () => 0.5,
    onAttempt: (e) => events.push(e),
    ...opts,
  });
  cleanups.push(
    () => http.close(),
    () => server.close(),
  );
  return { clock, server, http, token, events };
}

/** Start a request, run the simulated clock until it settles, return its outcome. */
async function run(
  clock: SimulatedClock,
  http: HttpAdapter,
  req: HttpRequest,
): Promise<{ res?: HttpResponse; err?: GraphError; elapsed: number }> {
  const start = clock.now();
  let done = false;
  const p = http.request(req).then(
    (res) => ({ res }),
    (err: GraphError) => ({ err }),
  );
  void p.finally(() => {
    done = true;
  });
  await clock.runUntil(() => done);
  const out = await p;
  return { ...out, elapsed: clock.now() - start };
}

const keepAlive = (server: Loopback, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'POST',
  url: `${server.url}/v1.0/communications/calls/c1/keepAlive`,
  auth: 'app',
  operation: 'keepAlive',
  retry: 'always',
  ...extra,
});

const record = (server: Loopback, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'POST',
  url: `${server.url}/v1.0/communications/calls/c1/recordResponse`,
  auth: 'app',
  body: { maxRecordDurationInSeconds: 10 },
  operation: 'record',
  retry: 'ifNotProcessed',
  ...extra,
});

const ok = reply(200, { ok: true }, { 'request-id': 'req-ok' });
const tooMany = (retryAfter?: string) =>
  reply(
    429,
    graphError('TooManyRequests', 'Please retry again later.'),
    retryAfter ? { 'retry-after': retryAfter } : {},
  );

describe('createUndiciHttp: retries against a loopback server', () => {
  it('waits exactly a fractional Retry-After (2.128 s) on the clock, then succeeds', async () => {
    const { clock, server, http } = await setup([tooMany('2.128'), ok]);
    const { res, elapsed } = await run(clock, http, keepAlive(server));
    expect(res?.status).toBe(200);
    expect(res?.attempts).toBe(2);
    expect(res?.json).toEqual({ ok: true });
    expect(res?.requestId).toBe('req-ok');
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]!.at - server.seen[0]!.at).toBe(2128);
    expect(elapsed).toBe(2128);
  });

  it('honours an HTTP-date Retry-After relative to the clock', async () => {
    const clock0 = new SimulatedClock().now();
    const date = new Date(clock0 + 7_000).toUTCString();
    const { clock, server, http } = await setup([tooMany(date), ok]);
    expect(clock.now()).toBe(clock0);
    const { res } = await run(clock, http, keepAlive(server));
    expect(res?.status).toBe(200);
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]!.at - server.seen[0]!.at).toBe(7_000);
  });

  it('waits a Retry-After of exactly maxRetryAfterMs, and does not come back early for a longer one', async () => {
    const atLimit = await setup([tooMany('10'), ok], { retry: { maxRetryAfterMs: 10_000 } });
    const { res } = await run(atLimit.clock, atLimit.http, keepAlive(atLimit.server));
    expect(res?.status).toBe(200);
    expect(atLimit.server.seen[1]!.at - atLimit.server.seen[0]!.at).toBe(10_000);

    const { clock, server, http } = await setup([tooMany('3600'), ok], {
      retry: { maxRetryAfterMs: 10_000 },
    });
    const { err, elapsed } = await run(clock, http, keepAlive(server));
    // Retrying before Graph's time only earns another 429: the caller gets the time to come back.
    expect(server.seen).toHaveLength(1);
    expect(elapsed).toBe(0);
    expect(err?.status).toBe(429);
    expect(err?.retryAfterMs).toBe(3_600_000);
    expect(err?.attempts).toBe(1);
  });

  it('retries 503 three times, then succeeds, each retry on a new connection', async () => {
    const unavailable = reply(503, graphError('ServiceUnavailable', 'busy'));
    const { clock, server, http, events } = await setup([unavailable, unavailable, unavailable, ok]);
    const { res } = await run(clock, http, keepAlive(server));
    expect(res?.status).toBe(200);
    expect(res?.attempts).toBe(4);
    expect(server.seen).toHaveLength(4);
    expect(new Set(server.seen.map((s) => s.socket)).size).toBe(4);
    // Backoff with equal jitter at random 0.5: 0.75 * 500, 1000, 2000.
    expect(events.map((e) => e.retryInMs)).toEqual([375, 750, 1500, undefined]);
    expect(events.map((e) => e.status)).toEqual([503, 503, 503, 200]);
  });

  it('keeps the connection after a retried 500 (keep-alive pool)', async () => {
    const { clock, server, http } = await setup([reply(500, graphError('InternalServerError', 'oops')), ok]);
    const { res } = await run(clock, http, keepAlive(server));
    expect(res?.status).toBe(200);
    expect(server.seen.map((s) => s.socket)).toEqual([1, 1]);
  });

  it('fails with the last 503 and its Graph code when the attempts run out', async () => {
    const { clock, server, http } = await setup(
      reply(503, graphError('ServiceUnavailable', 'busy'), { 'retry-after': '1' }),
      { retry: { maxAttempts: 2 } },
    );
    const { err } = await run(clock, http, keepAlive(server));
    expect(err).toBeInstanceOf(GraphError);
    expect(err?.status).toBe(503);
    expect(err?.code).toBe('ServiceUnavailable');
    expect(err?.retryAfterMs).toBe(1000);
    expect(err?.attempts).toBe(2);
    expect(server.seen).toHaveLength(2);
  });

  it('retries a connection reset for keepAlive', async () => {
    const { clock, server, http } = await setup([resetConnection, ok]);
    const { res } = await run(clock, http, keepAlive(server));
    expect(res?.status).toBe(200);
    expect(res?.attempts).toBe(2);
    expect(server.seen).toHaveLength(2);
  });

  it('fails a 404 at once with GraphError isNotFound and code 8522', async () => {
    const { clock, server, http } = await setup(
      reply(404, graphError('8522', 'Call not found.'), { 'request-id': 'req-404' }),
    );
    const { err } = await run(clock, http, keepAlive(server));
    expect(server.seen).toHaveLength(1);
    expect(err).toBeInstanceOf(GraphError);
    expect(err?.kind).toBe('http');
    expect(err?.isNotFound).toBe(true);
    expect(err?.code).toBe('8522');
    expect(err?.message).toBe('keepAlive: 404 8522: Call not found.');
    expect(err?.requestId).toBe('req-404');
    expect(err?.clientRequestId).toBe(server.seen[0]!.headers['client-request-id']);
    expect(err?.operation).toBe('keepAlive');
    expect(err?.attempts).toBe(1);
  });

  it('takes a numeric error code from the body as a string', async () => {
    const { clock, server, http } = await setup(
      reply(404, { error: { code: 8522, message: 'Call not found.', innererror: {} } }),
    );
    const { err } = await run(clock, http, keepAlive(server));
    expect(err?.code).toBe('8522');
  });

  it('refreshes the app token once on 401 and retries with the new token', async () => {
    const { clock, server, http, token } = await setup([
      reply(401, graphError('InvalidAuthenticationToken', 'expired')),
      ok,
    ]);
    const { res } = await run(clock, http, keepAlive(server, { retry: 'never', maxAttempts: 1 }));
    expect(res?.status).toBe(200);
    expect(server.seen).toHaveLength(2);
    expect(token.calls).toEqual([undefined, { forceRefresh: true }]);
    expect(server.seen[0]!.headers.authorization).toBe(`Bearer ${SECRET}-1`);
    expect(server.seen[1]!.headers.authorization).toBe(`Bearer ${SECRET}-2`);
  });

  it('sends a token the provider has at hand (peek) without asking getToken, and still refreshes after a 401', async () => {
    const token = countingToken();
    let current: string | undefined = `${SECRET}-cached`;
    const provider: TokenProvider = {
      getToken: (opts) => {
        current = undefined; // a refresh empties the cache; the next token comes from getToken
        return token.provider.getToken(opts);
      },
      peek: () => current,
    };
    const { clock, server, http } = await setup(
      [ok, reply(401, graphError('InvalidAuthenticationToken', 'expired')), ok],
      { token: provider },
    );
    expect((await run(clock, http, keepAlive(server))).res?.status).toBe(200);
    expect(token.calls).toEqual([]);
    expect(server.seen[0]!.headers.authorization).toBe(`Bearer ${SECRET}-cached`);

    current = `${SECRET}-cached`;
    const { res } = await run(clock, http, keepAlive(server, { retry: 'never', maxAttempts: 1 }));
    expect(res?.status).toBe(200);
    // The 401 retry goes to getToken with forceRefresh, never back to the cached token.
    expect(token.calls).toEqual([{ forceRefresh: true }]);
    expect(server.seen[2]!.headers.authorization).toBe(`Bearer ${SECRET}-2`);
  });

  it('asks getToken when peek has nothing, returns an empty string or throws', async () => {
    for (const peek of [
      () => undefined,
      () => '',
      () => {
        throw new Error('boom');
      },
    ]) {
      const token = countingToken();
      const { clock, server, http } = await setup(ok, { token: { ...token.provider, peek } });
      expect((await run(clock, http, keepAlive(server))).res?.status).toBe(200);
      expect(token.calls).toEqual([undefined]);
      expect(server.seen[0]!.headers.authorization).toBe(`Bearer ${SECRET}-1`);
    }
  });

  it('fails on a second 401 after one refresh', async () => {
    const { clock, server, http, token } = await setup(
      reply(401, graphError('InvalidAuthenticationToken', 'nope')),
    );
    const { err } = await run(clock, http, keepAlive(server));
    expect(err?.status).toBe(401);
    expect(err?.attempts).toBe(2);
    expect(server.seen).toHaveLength(2);
    expect(token.calls.filter((c) => c?.forceRefresh)).toHaveLength(1);
  });

  it('never retries 400, 403 or 409', async () => {
    for (const status of [400, 403, 409]) {
      const { clock, server, http } = await setup(reply(status, graphError('Forbidden', 'no')));
      const { err } = await run(clock, http, keepAlive(server));
      expect(err?.status).toBe(status);
      expect(server.seen).toHaveLength(1);
    }
  });

  it('does not follow redirects', async () => {
    const { clock, server, http } = await setup([reply(302, undefined, { location: '/elsewhere' }), ok]);
    const { err } = await run(clock, http, keepAlive(server));
    expect(err?.status).toBe(302);
    expect(server.seen).toHaveLength(1);
  });
});

describe('createUndiciHttp: the record POST (ifNotProcessed)', () => {
  for (const status of [500, 502, 504]) {
    it(`is not retried on ${status}`, async () => {
      const { clock, server, http } = await setup([reply(status, graphError('Boom', 'x')), ok]);
      const { err } = await run(clock, http, record(server));
      expect(err?.status).toBe(status);
      expect(server.seen).toHaveLength(1);
    });
  }

  it('is not retried after a connection reset', async () => {
    const { clock, server, http } = await setup([resetConnection, ok]);
    const { err } = await run(clock, http, record(server));
    expect(err?.kind).toBe('network');
    expect(server.seen).toHaveLength(1);
  });

  it('is retried on 503 and on 429', async () => {
    for (const first of [reply(503, graphError('ServiceUnavailable', 'x')), tooMany('1')]) {
      const { clock, server, http } = await setup([first, reply(200, { id: 'op' })]);
      const { res } = await run(clock, http, record(server));
      expect(res?.json).toEqual({ id: 'op' });
      expect(server.seen).toHaveLength(2);
      expect(server.seen[1]!.body).toBe(server.seen[0]!.body);
    }
  });

  it('is retried when the connection is refused (nothing was sent)', async () => {
    const { clock, server, http, events } = await setup(ok);
    const port = new URL(server.url).port;
    await server.close();
    const { err } = await run(clock, http, record(server, { url: `http://127.0.0.1:${port}/x` }));
    expect(err?.kind).toBe('network');
    expect(err?.code).toBe('ECONNREFUSED');
    expect(err?.attempts).toBe(4);
    expect(events).toHaveLength(4);
  });

  it('sends a JSON body with content-type; keepAlive sends no body', async () => {
    const { clock, server, http } = await setup(ok);
    await run(clock, http, record(server));
    await run(clock, http, keepAlive(server));
    expect(server.seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.seen[0]!.body)).toEqual({ maxRecordDurationInSeconds: 10 });
    expect(server.seen[1]!.body).toBe('');
    expect(server.seen[1]!.headers['content-type']).toBeUndefined();
  });
});

describe('createUndiciHttp: attempts, ids, timeouts', () => {
  it('honours maxAttempts from the policy and per request', async () => {
    const boom = reply(500, graphError('InternalServerError', 'x'));
    const a = await setup(boom, { retry: { maxAttempts: 2 } });
    expect((await run(a.clock, a.http, keepAlive(a.server))).err?.attempts).toBe(2);
    expect(a.server.seen).toHaveLength(2);

    const b = await setup(boom);
    expect((await run(b.clock, b.http, keepAlive(b.server, { maxAttempts: 3 }))).err?.attempts).toBe(3);
    expect(b.server.seen).toHaveLength(3);

    const c = await setup(boom);
    expect((await run(c.clock, c.http, keepAlive(c.server))).err?.attempts).toBe(4);
    expect(c.server.seen).toHaveLength(4);
  });

  it('sends one client-request-id on every attempt of a request, a new one per request', async () => {
    const boom = reply(500, graphError('InternalServerError', 'x'));
    const { clock, server, http } = await setup([boom, boom, ok, ok]);
    const first = await run(clock, http, keepAlive(server));
    const second = await run(clock, http, keepAlive(server));
    const ids = server.seen.map((s) => s.headers['client-request-id']);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids.slice(0, 3)).toEqual([ids[0], ids[0], ids[0]]);
    expect(first.res?.clientRequestId).toBe(ids[0]);
    expect(ids[3]).not.toBe(ids[0]);
    expect(second.res?.clientRequestId).toBe(ids[3]);
  });

  it('times out an attempt on the simulated clock while the server holds the request', async () => {
    const releases: Array<() => void> = [];
    const clock = new SimulatedClock();
    const hold: Responder = (_req, res) => {
      // The server waits for the test, not for simulated time: let the clock move.
      const release = clock.park();
      releases.push(release);
      res.on('close', release);
    };
    const server = await startLoopback(hold, clock);
    const http = createUndiciHttp({
      token: countingToken().provider,
      clock,
      timeoutMs: 5_000,
      random: () => 0,
    });
    cleanups.push(
      () => http.close(),
      () => server.close(),
    );
    const { err, elapsed } = await run(clock, http, keepAlive(server, { maxAttempts: 2 }));
    for (const r of releases) r();
    expect(err).toBeInstanceOf(GraphError);
    expect(err?.kind).toBe('timeout');
    expect(err?.attempts).toBe(2);
    expect(server.seen).toHaveLength(2);
    // 5 s timeout, 250 ms backoff (equal jitter, random 0), 5 s timeout.
    expect(server.seen[1]!.at - server.seen[0]!.at).toBe(5_250);
    expect(elapsed).toBe(10_250);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not retry a timed-out record POST', async () => {
    const clock = new SimulatedClock();
    const hold: Responder = (_req, res) => res.on('close', clock.park());
    const server = await startLoopback(hold, clock);
    const http = createUndiciHttp({ token: countingToken().provider, clock });
    cleanups.push(
      () => http.close(),
      () => server.close(),
    );
    const { err, elapsed } = await run(clock, http, record(server));
    expect(err?.kind).toBe('timeout');
    expect(elapsed).toBe(30_000);
    expect(server.seen).toHaveLength(1);
  });

  it('aborts during the retry wait with kind aborted', async () => {
    const { clock, server, http } = await setup(tooMany('60'));
    const ac = new AbortController();
    clock.setTimeout(() => ac.abort(), 1_000);
    const { err, elapsed } = await run(clock, http, keepAlive(server, { signal: ac.signal }));
    expect(err?.kind).toBe('aborted');
    expect(elapsed).toBe(1_000);
    expect(server.seen).toHaveLength(1);
  });

  it('reports every attempt without the query string or a token', async () => {
    const { clock, server, http, events } = await setup([tooMany('1'), ok]);
    await run(clock, http, keepAlive(server, { url: `${server.url}/x?sig=SECRETSIG` }));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ attempt: 1, status: 429, retryInMs: 1000, url: `${server.url}/x` });
    expect(events[1]).toMatchObject({ attempt: 2, status: 200 });
    expect(events[0]!.clientRequestId).toBe(events[1]!.clientRequestId);
    expect(JSON.stringify(events)).not.toMatch(/SECRET/);
  });

  it('reports the first attempt on the fast path too (a clock that tracks no work), with its own duration', async () => {
    // A clock without work tracking (the adapter's fast path for attempt 1), moved by hand; waits
    // of 0 ms run at once, longer ones (the 30-s deadline) never fall due in this test.
    let now = 1_000_000;
    const plain = {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => (ms <= 0 ? setImmediate(fn) : undefined),
      clearTimeout: (h: unknown) => (h ? clearImmediate(h as NodeJS.Immediate) : undefined),
    } as unknown as UndiciHttpOptions['clock'];
    // The second request's first answer comes after the clock moved 250 ms: that attempt's duration.
    const slowTooMany: Responder = (req, res, seen, i) => {
      now += 250;
      tooMany('0')(req, res, seen, i);
    };
    const { server, http, events } = await setup([ok, slowTooMany, ok], { clock: plain });
    expect((await http.request(keepAlive(server))).status).toBe(200);
    expect(events).toEqual([expect.objectContaining({ attempt: 1, status: 200, durationMs: 0 })]);
    expect((await http.request(keepAlive(server))).attempts).toBe(2);
    expect(events.slice(1)).toEqual([
      expect.objectContaining({ attempt: 1, status: 429, retryInMs: 0, durationMs: 250 }),
      expect.objectContaining({ attempt: 2, status: 200, durationMs: 0 }),
    ]);
    expect(events[1]!.clientRequestId).toBe(events[2]!.clientRequestId);
  });

  it('never puts a token into an error, even when the server echoes it', async () => {
    const echo: Responder = (req, res) =>
      reply(403, graphError('Forbidden', `bad header ${req.headers.authorization}`))(
        req,
        res,
        undefined as any,
        0,
      );
    const { clock, server, http, events } = await setup(echo);
    const { err } = await run(clock, http, keepAlive(server));
    expect(err?.status).toBe(403);
    expect(err?.message).toContain('Bearer [redacted]');
    const all = JSON.stringify({ err, message: err?.message, stack: err?.stack, events, cause: err?.cause });
    expect(all).not.toContain(SECRET);
  });

  it('sends exactly the given bearer and never asks the token provider', async () => {
    const { clock, server, http, token } = await setup(ok);
    await run(clock, http, {
      method: 'GET',
      url: `${server.url}/rec`,
      auth: { bearer: 'rec-token-1' },
      operation: 'downloadRecording',
    });
    expect(server.seen[0]!.headers.authorization).toBe('Bearer rec-token-1');
    expect(token.calls).toHaveLength(0);
  });

  it('turns a failing token provider into GraphError kind auth without sending', async () => {
    const { clock, server } = await setup(ok);
    const http = createUndiciHttp({
      token: {
        getToken: async () => {
          throw new Error('AADSTS7000215: Invalid client secret provided. Bearer abc.def');
        },
      },
      clock,
    });
    cleanups.push(() => http.close());
    const { err } = await run(clock, http, keepAlive(server));
    expect(err?.kind).toBe('auth');
    expect(err?.code).toBe('tokenUnavailable');
    expect(err?.isTransient).toBe(true);
    expect(err?.message).not.toContain('abc.def');
    expect(server.seen).toHaveLength(0);
  });

  it('times out a token provider that never answers', async () => {
    const { clock, server } = await setup(ok);
    // A provider stuck on a slow identity service: it waits on the clock rather than holding it still.
    const stuck = {
      getToken: () => {
        clock.park();
        return new Promise<string>(() => {});
      },
    };
    const http = createUndiciHttp({ token: stuck, clock, timeoutMs: 2_000 });
    cleanups.push(() => http.close());
    const { err, elapsed } = await run(clock, http, keepAlive(server));
    expect(err?.kind).toBe('auth');
    expect(err?.code).toBe('tokenTimeout');
    expect(elapsed).toBe(2_000);
    expect(server.seen).toHaveLength(0);
  });

  it('close() closes its own Agent but not a passed-in dispatcher', async () => {
    const { clock, server, http } = await setup(ok);
    await http.close();
    const { err } = await run(clock, http, keepAlive(server));
    expect(err?.kind).toBe('network');

    const dispatcher = new Agent();
    const shared = createUndiciHttp({ token: countingToken().provider, clock, dispatcher });
    await shared.close();
    const { res } = await run(clock, shared, keepAlive(server));
    expect(res?.status).toBe(200);
    expect(dispatcher.closed).toBe(false);
    await dispatcher.close();
  });
});
