/**
 * Issue 16.2: handle() takes what frameworks hand over (text, bytes, or the
 * object their JSON parser made) with the same validation, and says clearly
 * what it got when it cannot use a value. nodeHandler reads `req.body` when a
 * body parser already consumed the stream. The token is still required.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { createNotificationHandler, type NotificationHandler } from '../../src/notifications/http.js';
import { createNotificationVerifier } from '../../src/notifications/index.js';
import type { ParsedNotification } from '../../src/notifications/parse.js';
import { type KeyServer, makeKey, signToken, startKeyServer } from './fixtures.js';
import { batch, callTerminated, recordCompleted } from './samples.js';

const TEXT = JSON.stringify(batch(recordCompleted, callTerminated));

function open() {
  const delivered: ParsedNotification[][] = [];
  const handler = createNotificationHandler({
    verifier: false,
    onNotifications: (items) => delivered.push(items),
  });
  return { handler, delivered };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('handle() takes text, bytes or a parsed object', () => {
  const bytes = Buffer.from(TEXT);
  it.each([
    ['a string', TEXT],
    ['a Buffer', bytes],
    ['a Uint8Array', new Uint8Array(bytes)],
    ['an ArrayBuffer', new Uint8Array(bytes).buffer],
    ['a DataView', new DataView(new Uint8Array(bytes).buffer)],
    ['a parsed object (express.json, Fastify, Nest)', JSON.parse(TEXT)],
  ])('%s: 202 and the same items', async (_what, body) => {
    const { handler, delivered } = open();
    expect(await handler.handle(body, { 'content-type': 'application/json' })).toEqual({ status: 202 });
    await tick();
    expect(delivered).toHaveLength(1);
    const [record, ended] = delivered[0]!;
    expect(record?.resources[0]).toMatchObject({ kind: 'recordOperation', data: { status: 'completed' } });
    expect(ended?.resources[0]).toMatchObject({ kind: 'call', data: { state: 'terminated' } });
  });

  it.each([
    ['undefined', undefined, 'got undefined'],
    ['a number', 42, 'got a number'],
    ['a boolean', true, 'got a boolean'],
    ['a function', () => TEXT, 'got a function'],
    ['a stream', Readable.from([TEXT]), 'got a stream'],
  ])('%s: 400 unsupportedBody saying what was given and what is accepted', async (_what, body, got) => {
    const { handler, delivered } = open();
    const res = await handler.handle(body, {});
    expect(res).toMatchObject({ status: 400, code: 'unsupportedBody' });
    expect(res.message).toContain(got);
    expect(res.message).toMatch(/string, bytes \(Buffer, Uint8Array, ArrayBuffer\) or a parsed JSON object/);
    await tick();
    expect(delivered).toEqual([]);
  });

  it('validates a parsed object as it validates text: envelope, forbidden keys, depth, counts', async () => {
    const { handler } = open();
    const check = async (body: unknown, message: RegExp) =>
      expect(await handler.handle(body as object, {})).toMatchObject({
        status: 400,
        code: 'invalidBody',
        message: expect.stringMatching(message),
      });
    await check({}, /not a commsNotifications body: value/);
    await check(null, /not a commsNotifications body/);
    // What JSON.parse (and so express.json) makes of a __proto__ key: an own property.
    await check(JSON.parse(`{"value":[{"__proto__":{"polluted":1}}]}`), /forbidden key "__proto__"/);
    let deep: unknown = [];
    for (let i = 0; i < 100; i++) deep = [deep];
    await check({ value: [{ ...callTerminated, x: deep }] }, /deeper than 32/);
    const cycle: Record<string, unknown> = { ...callTerminated };
    cycle.self = cycle;
    await check({ value: [cycle] }, /deeper than 32/);
    await check({ value: Array(1001).fill(callTerminated) }, /more than 1000 notifications/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('applies a declared Content-Length limit to a parsed object', async () => {
    const handler = createNotificationHandler({
      verifier: false,
      limitBytes: 100,
      onNotifications: () => {},
    });
    expect(await handler.handle(JSON.parse(TEXT), { 'content-length': '5000' })).toMatchObject({
      status: 413,
      code: 'bodyTooLarge',
    });
    expect(await handler.handle(TEXT, {})).toMatchObject({ status: 413 });
  });
});

describe('with token validation on', () => {
  let keys: KeyServer;
  let handler: NotificationHandler;
  let token: string;
  const delivered: ParsedNotification[][] = [];
  beforeAll(async () => {
    const key = await makeKey('k1');
    keys = await startKeyServer([key.jwk]);
    const clock = new SimulatedClock();
    const verifier = createNotificationVerifier({
      appId: '11111111-2222-3333-4444-555555555555',
      openIdConfigurationUrl: keys.openIdUrl,
      clock,
    });
    token = await signToken(clock, key);
    handler = createNotificationHandler({ verifier, onNotifications: (items) => delivered.push(items) });
  });
  afterAll(async () => {
    await keys.close();
  });

  it('a parsed object still needs a valid Authorization header', async () => {
    expect(await handler.handle(JSON.parse(TEXT), {})).toMatchObject({ status: 401, code: 'missingToken' });
    expect(await handler.handle(JSON.parse(TEXT), { authorization: 'Bearer x.y.z' })).toMatchObject({
      status: 401,
    });
    expect(await handler.handle(JSON.parse(TEXT), { authorization: `Bearer ${token}` })).toEqual({
      status: 202,
    });
    await tick();
    expect(delivered).toHaveLength(1);
  });
});

/** node:http with a stand-in body parser in front of nodeHandler, as Express mounts one. */
async function serveBehind(
  parser: (req: IncomingMessage & { body?: unknown }) => Promise<void>,
  handler: NotificationHandler,
) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    parser(req).then(() => handler.nodeHandler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`;
  return {
    post: async (body: string) => {
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      return { status: res.status, text: await res.text() };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function drain(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

describe('nodeHandler after a body parser', () => {
  it.each([
    [
      'a JSON parser (req.body an object)',
      async (req: { body?: unknown } & IncomingMessage) => {
        req.body = JSON.parse(await drain(req));
      },
    ],
    [
      'a text parser (req.body a string)',
      async (req: { body?: unknown } & IncomingMessage) => {
        req.body = await drain(req);
      },
    ],
    [
      'a raw parser (req.body a Buffer)',
      async (req: { body?: unknown } & IncomingMessage) => {
        req.body = Buffer.from(await drain(req));
      },
    ],
  ])('%s: reads req.body and delivers', async (_what, parser) => {
    const { handler, delivered } = open();
    const server = await serveBehind(parser, handler);
    try {
      expect((await server.post(TEXT)).status).toBe(202);
      await tick();
      expect(delivered.map((items) => items.length)).toEqual([2]);
    } finally {
      await server.close();
    }
  });

  it('a parser that set req.body without reading (Express 4 sets {}) leaves the stream to us', async () => {
    const { handler, delivered } = open();
    const server = await serveBehind(async (req) => {
      req.body = {};
    }, handler);
    try {
      expect((await server.post(TEXT)).status).toBe(202);
      await tick();
      expect(delivered).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('a consumed stream with nothing in req.body is a 400 that says why', async () => {
    const { handler, delivered } = open();
    const server = await serveBehind(async (req) => {
      await drain(req);
    }, handler);
    try {
      const res = await server.post(TEXT);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).error.message).toMatch(/already read by another middleware/);
      expect(delivered).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('fetchHandler after the body was read', () => {
  it('a Request whose body was already read is a 400 that says why', async () => {
    const { handler, delivered } = open();
    const request = new Request('http://bot.example/cb', {
      method: 'POST',
      body: TEXT,
      headers: { 'content-type': 'application/json' },
    });
    await request.text();
    const res = await handler.fetchHandler(request);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/already read/);
    await tick();
    expect(delivered).toEqual([]);
  });
});
