/**
 * The HTTP adapter over a user's undici Dispatcher (the `dispatcher` option):
 * a MockAgent and a ProxyAgent to a loopback proxy. Our retries, Clock and
 * client-request-id still wrap whatever dispatcher carries the bytes. And the
 * shared per-attempt deadline: one Clock timer for many attempts in flight.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { Agent, type Dispatcher, MockAgent, ProxyAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { HttpAdapter, HttpRequest } from '../../src/adapters/http.js';
import { staticToken } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { GraphError } from '../../src/graph/errors.js';
import { graphError, type Responder, reply, startLoopback } from './loopback.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const keepAlive = (base: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'POST',
  url: `${base}/v1.0/communications/calls/c1/keepAlive`,
  auth: 'app',
  operation: 'keepAlive',
  retry: 'always',
  ...extra,
});

async function settle(clock: SimulatedClock, http: HttpAdapter, req: HttpRequest) {
  const start = clock.now();
  let done = false;
  const p = http.request(req).then(
    (res) => ({ res, err: undefined }),
    (err: GraphError) => ({ res: undefined, err }),
  );
  void p.finally(() => {
    done = true;
  });
  await clock.runUntil(() => done);
  return { ...(await p), elapsed: clock.now() - start };
}

describe('createUndiciHttp over a given dispatcher', () => {
  it('sends through a MockAgent: Retry-After on the clock, one client-request-id, the app token', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    cleanups.push(() => mock.close());
    const seen: Array<Record<string, string>> = [];
    const graph = mock.get('https://graph.example');
    const path = '/v1.0/communications/calls/c1/keepAlive';
    const answers = [
      {
        statusCode: 429,
        data: graphError('TooManyRequests', 'slow down'),
        headers: { 'retry-after': '2.5' },
      },
      { statusCode: 200, data: '', headers: { 'request-id': 'r-2' } },
    ];
    for (const a of answers)
      graph.intercept({ path, method: 'POST' }).reply((opts) => {
        seen.push(opts.headers as Record<string, string>);
        return { statusCode: a.statusCode, data: a.data, responseOptions: { headers: a.headers } };
      });
    const clock = new SimulatedClock();
    const http = createUndiciHttp({ token: staticToken('app-token-1'), clock, dispatcher: mock });
    cleanups.push(() => http.close());

    const { res, err, elapsed } = await settle(clock, http, keepAlive('https://graph.example'));
    expect(err).toBeUndefined();
    expect(res?.status).toBe(200);
    expect(res?.attempts).toBe(2);
    expect(res?.requestId).toBe('r-2');
    expect(elapsed).toBe(2_500);
    expect(seen).toHaveLength(2);
    expect(seen[0]!['client-request-id']).toBe(res?.clientRequestId);
    expect(seen[1]!['client-request-id']).toBe(res?.clientRequestId);
    expect(seen[1]!.authorization).toBe('Bearer app-token-1');
  });

  it('maps a MockAgent 404 to GraphError with Graph code, no retry', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    cleanups.push(() => mock.close());
    mock
      .get('https://graph.example')
      .intercept({ path: '/v1.0/communications/calls/c1/keepAlive', method: 'POST' })
      .reply(404, graphError('8522', 'Call not found.'));
    const clock = new SimulatedClock();
    const http = createUndiciHttp({ token: staticToken('t'), clock, dispatcher: mock });
    const { err } = await settle(clock, http, keepAlive('https://graph.example'));
    expect(err).toBeInstanceOf(GraphError);
    expect(err?.isNotFound).toBe(true);
    expect(err?.code).toBe('8522');
    expect(err?.attempts).toBe(1);
  });

  it('goes through a ProxyAgent, and a retried 503 opens a new tunnel', async () => {
    const clock = new SimulatedClock();
    const unavailable = reply(503, graphError('ServiceUnavailable', 'busy'), { 'retry-after': '1' });
    const target = await startLoopback([unavailable, unavailable, reply(200)], clock);
    const proxy = await startConnectProxy();
    const dispatcher = new ProxyAgent({ uri: proxy.url });
    const http = createUndiciHttp({ token: staticToken('t'), clock, dispatcher });
    cleanups.push(
      () => dispatcher.close(),
      () => proxy.close(),
      () => target.close(),
    );

    const { res, err, elapsed } = await settle(clock, http, keepAlive(target.url));
    expect(err).toBeUndefined();
    expect(res?.status).toBe(200);
    expect(res?.attempts).toBe(3);
    expect(elapsed).toBe(2_000);
    const host = new URL(target.url).host;
    // Each retry after a 503 on its own connection, and every connection the target saw is a tunnel.
    expect(new Set(target.seen.map((s) => s.socket)).size).toBe(3);
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(3);
    expect(new Set(proxy.tunnels)).toEqual(new Set([host]));
    expect(proxy.tunnelled).toBe(target.connections);
    expect(new Set(target.seen.map((s) => s.headers['client-request-id'])).size).toBe(1);
  });
});

describe('createUndiciHttp over a composed dispatcher', () => {
  it("runs every attempt, downloads too, through the user's interceptor", async () => {
    const clock = new SimulatedClock();
    const target = await startLoopback(
      [reply(429, graphError('TooManyRequests', 'slow'), { 'retry-after': '1' }), reply(200), reply(200)],
      clock,
    );
    const seen: string[] = [];
    // An interceptor in undici's own model: it sees each dispatch and passes it on.
    const tag: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
      seen.push(`${opts.method} ${opts.path}`);
      return dispatch(
        { ...opts, headers: { ...(opts.headers as Record<string, string>), 'x-tag': '1' } },
        handler,
      );
    };
    const agent = new Agent();
    const http = createUndiciHttp({ token: staticToken('t'), clock, dispatcher: agent.compose(tag) });
    cleanups.push(
      () => agent.close(),
      () => target.close(),
    );
    const { res } = await settle(clock, http, keepAlive(target.url));
    expect(res?.attempts).toBe(2);
    const dl = await settle(clock, http, {
      method: 'GET',
      url: `${target.url}/rec/1`,
      auth: { bearer: 'rec-token' },
      operation: 'download',
      stream: true,
    });
    dl.res?.body?.resume();
    expect(dl.res?.status).toBe(200);
    const path = '/v1.0/communications/calls/c1/keepAlive';
    expect(seen).toEqual([`POST ${path}`, `POST ${path}`, 'GET /rec/1']);
    expect(target.seen.map((x) => x.headers['x-tag'])).toEqual(['1', '1', '1']);
    expect(target.seen[2]!.headers.authorization).toBe('Bearer rec-token');
  });
});

describe('the per-attempt deadline', () => {
  it('times out each of several attempts at its own deadline while they share one clock timer', async () => {
    const clock = new SimulatedClock();
    const hold: Responder = (_req, res) => res.on('close', clock.park());
    const server = await startLoopback(hold, clock);
    const http = createUndiciHttp({ token: staticToken('t'), clock, timeoutMs: 5_000 });
    cleanups.push(
      () => http.close(),
      () => server.close(),
    );
    const start = clock.now();
    const ended: number[] = [];
    const results: Array<Promise<GraphError | undefined>> = [];
    // Start them 1 s apart: deadlines at 5, 6 and 7 s.
    for (let i = 0; i < 3; i++) {
      results.push(
        http.request(keepAlive(server.url, { maxAttempts: 1 })).then(
          () => undefined,
          (e: GraphError) => {
            ended[i] = clock.now() - start;
            return e;
          },
        ),
      );
      while (server.seen.length <= i) await new Promise((r) => setImmediate(r));
      if (i < 2) await clock.advance(1_000);
    }
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10_000);
    const errors = await Promise.all(results);
    expect(errors.map((e) => e?.kind)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(ended).toEqual([5_000, 6_000, 7_000]);
    expect(clock.pendingTimers).toBe(0);
  });
});

/** A forward proxy that only tunnels (CONNECT), as ProxyAgent uses it; records each tunnel's target. */
async function startConnectProxy(): Promise<{
  url: string;
  tunnels: string[];
  /** Tunnels that reached the target. */
  tunnelled: number;
  close(): Promise<void>;
}> {
  const tunnels: string[] = [];
  let tunnelled = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const [host, port] = target.split(':');
    const upstream = connect(Number(port), host!, () => {
      tunnelled++;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    get tunnelled() {
      return tunnelled;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
