/**
 * `auth: 'none'` on the real undici adapter over loopback: no Authorization
 * header at all and the token provider never asked; and the per-request
 * `maxBytes` cap on a JSON answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { GraphError } from '../../src/graph/errors.js';

let server: Server;
let url: string;
const seen: Array<string | undefined> = [];
let body = '{"ok":true}';
let status = 200;

beforeEach(async () => {
  seen.length = 0;
  body = '{"ok":true}';
  status = 200;
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/doc`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function adapter() {
  let asked = 0;
  const http = createUndiciHttp({
    clock: new SimulatedClock(),
    token: {
      getToken: async () => {
        asked++;
        return 'app-token-canary';
      },
    },
  });
  return { http, asked: () => asked };
}

describe("auth: 'none'", () => {
  it('sends no Authorization header and never asks the token provider', async () => {
    const { http, asked } = adapter();
    try {
      const res = await http.request({ method: 'GET', url, auth: 'none', operation: 'doc' });
      expect(res.json).toEqual({ ok: true });
      // Not even one the caller put in its headers.
      await http.request({
        method: 'GET',
        url,
        auth: 'none',
        operation: 'doc',
        headers: { Authorization: 'Bearer smuggled' },
      });
      expect(seen).toEqual([undefined, undefined]);
      expect(asked()).toBe(0);
      // The app token still goes where it is asked for.
      await http.request({ method: 'GET', url, auth: 'app', operation: 'doc' });
      expect(seen[2]).toBe('Bearer app-token-canary');
    } finally {
      await http.close();
    }
  });

  it('a 401 is not answered with a token refresh', async () => {
    const { http, asked } = adapter();
    status = 401;
    try {
      const err = await http.request({ method: 'GET', url, auth: 'none', operation: 'doc' }).catch((e) => e);
      expect(err).toBeInstanceOf(GraphError);
      expect(err).toMatchObject({ status: 401, attempts: 1 });
      expect(asked()).toBe(0);
    } finally {
      await http.close();
    }
  });
});

describe('maxBytes', () => {
  it('fails a JSON answer over the cap, without retrying, and accepts one at it', async () => {
    const { http } = adapter();
    body = JSON.stringify({ pad: 'x'.repeat(2000) });
    try {
      const err = await http
        .request({ method: 'GET', url, auth: 'none', operation: 'doc', maxBytes: 1024 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(GraphError);
      expect(err).toMatchObject({ kind: 'invalidResponse', code: 'bodyTooLarge', attempts: 1 });
      expect(err.message).toMatch(/over 1024 bytes/);
      const ok = await http.request({
        method: 'GET',
        url,
        auth: 'none',
        operation: 'doc',
        maxBytes: Buffer.byteLength(body),
      });
      expect(ok.json).toEqual({ pad: 'x'.repeat(2000) });
      await expect(
        http.request({ method: 'GET', url, auth: 'none', operation: 'doc', maxBytes: -1 }),
      ).rejects.toMatchObject({ kind: 'invalidRequest' });
    } finally {
      await http.close();
    }
  });
});
