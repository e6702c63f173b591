/**
 * Loopback servers around a NotificationHandler: node:http with nodeHandler,
 * and node:http with a small fetch adapter (what a fetch-style framework does)
 * around fetchHandler. Both report how many body bytes left the socket for
 * the handler, to check that a large body is not read to its end.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotificationHandler } from '../../src/notifications/http.js';

export interface TestServer {
  url: string;
  /** Body bytes read from the socket for the current (latest) request so far. */
  bytesRead(): number;
  /** Body bytes of the current request handed to the handler ('data' events; the fetch stream's reads). */
  bytesDelivered(): number;
  /** Resolves when the response of the n-th request (0-based) is closed. */
  responseClosed(n: number): Promise<void>;
  /** Resolves when the n-th request arrived. */
  requestArrived(n: number): Promise<void>;
  close(): Promise<void>;
}

interface Counter {
  bytes: number;
  delivered: number;
}

type Listener = (req: IncomingMessage, res: ServerResponse, counter: Counter) => void;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function start(listener: Listener): Promise<TestServer> {
  let current: Counter = { bytes: 0, delivered: 0 };
  const arrived: Array<ReturnType<typeof deferred>> = [];
  const closed: Array<ReturnType<typeof deferred>> = [];
  const slot = (list: Array<ReturnType<typeof deferred>>, n: number) => {
    while (list.length <= n) list.push(deferred());
    return list[n]!;
  };
  let count = 0;
  const server = createServer((req, res) => {
    const n = count++;
    current = { bytes: 0, delivered: 0 };
    res.once('close', () => slot(closed, n).resolve());
    slot(arrived, n).resolve();
    listener(req, res, current);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    bytesRead: () => current.bytes,
    bytesDelivered: () => current.delivered,
    responseClosed: (n) => slot(closed, n).promise,
    requestArrived: (n) => slot(arrived, n).promise,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** node:http calling nodeHandler; counts the body bytes the request stream emitted. */
export function startNodeServer(handler: NotificationHandler): Promise<TestServer> {
  return start((req, res, counter) => {
    // Count without consuming: wrap push, which the parser calls for each body chunk.
    const push = req.push.bind(req);
    req.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (chunk) counter.bytes += (chunk as Buffer).length;
      return push(chunk, encoding);
    };
    // Count what the handler is given, without adding a 'data' listener (which would start the flow).
    const emit = req.emit.bind(req) as (event: string | symbol, ...args: unknown[]) => boolean;
    req.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'data') counter.delivered += (args[0] as Buffer).length;
      return emit(event, ...args);
    }) as typeof req.emit;
    handler.nodeHandler(req, res);
  });
}

/** node:http -> Request -> fetchHandler -> Response, with a pull-based body stream. */
export function startFetchServer(handler: NotificationHandler): Promise<TestServer> {
  return start(async (req, res, counter) => {
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          req.on('data', (c: Buffer) => {
            counter.bytes += c.length;
            counter.delivered += c.length;
            controller.enqueue(new Uint8Array(c.buffer, c.byteOffset, c.length));
            if ((controller.desiredSize ?? 0) <= 0) req.pause();
          });
          req.on('end', () => controller.close());
          req.on('error', (e) => controller.error(e));
          req.pause();
        },
        pull() {
          req.resume();
        },
        // The handler stopped reading: stop pulling from the socket (the answer closes the connection).
        cancel() {
          req.pause();
          req.removeAllListeners('data');
        },
      },
      { highWaterMark: 1 },
    );
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(req.method === 'POST' ? { body, duplex: 'half' } : {}),
    } as RequestInit);
    const response = await handler.fetchHandler(request);
    const out = Buffer.from(await response.arrayBuffer());
    const head: Record<string, string> = { 'content-length': String(out.length) };
    response.headers.forEach((v, k) => {
      head[k] = v;
    });
    if (!req.complete) head.connection = 'close';
    res.writeHead(response.status, head).end(out);
  });
}
