/**
 * A scripted loopback HTTP server for adapter tests: each test says how the
 * n-th request is answered and reads back what the server saw.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '../../src/adapters/clock.js';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The test clock's now() when the request arrived (NaN without a clock). */
  at: number;
  /** Which TCP connection carried it (1, 2, ...). */
  socket: number;
}

export type Responder = (req: IncomingMessage, res: ServerResponse, seen: Seen, index: number) => void;

export interface Loopback {
  url: string;
  origin: string;
  seen: Seen[];
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Answer request n with `script[n]` (the last entry repeats). */
export async function startLoopback(script: Responder | Responder[], clock?: Clock): Promise<Loopback> {
  const seen: Seen[] = [];
  const socketIds = new WeakMap<Socket, number>();
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const index = seen.length;
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: clock ? clock.now() : Number.NaN,
        socket: socketIds.get(req.socket) ?? 0,
      };
      seen.push(entry);
      const responder = Array.isArray(script) ? (script[index] ?? script[script.length - 1]!) : script;
      responder(req, res, entry, index);
    });
  });
  server.on('connection', (socket) => {
    socketIds.set(socket, ++connections);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    origin,
    seen,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reply with a status, optional JSON body and headers. */
export function reply(status: number, body?: unknown, headers: Record<string, string> = {}): Responder {
  return (_req, res) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...(text ? { 'content-type': 'application/json' } : {}),
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  };
}

/** Graph's error body. */
export function graphError(code: string, message: string, extra: Record<string, unknown> = {}) {
  return {
    error: {
      code,
      message,
      innerError: { date: '2026-01-01T00:00:00', 'request-id': 'inner-req-id', ...extra },
    },
  };
}

/** Drop the connection without answering (a reset as the client sees it). */
export const resetConnection: Responder = (req) => {
  req.socket.destroy();
};
