/**
 * The notification endpoint over real loopback HTTP: nodeHandler on node:http
 * and fetchHandler behind a fetch adapter, driven by a real fetch; plus
 * handle() and readBody directly.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { NotificationError } from '../../src/notifications/errors.js';
import {
  createNotificationHandler,
  type NotificationHandlerOptions,
  readBody,
} from '../../src/notifications/http.js';
import {
  createNotificationVerifier,
  type NotificationVerifier,
  type VerifiedCaller,
} from '../../src/notifications/index.js';
import type { ParsedNotification } from '../../src/notifications/parse.js';
import { type KeyServer, makeKey, signToken, startKeyServer, TENANT } from './fixtures.js';
import { batch, CALL_ID, nested, OP_ID, recordCompleted } from './samples.js';
import { startFetchServer, startNodeServer, type TestServer } from './servers.js';

const LIMIT = 1024 * 1024;
const FIVE_MB = 5 * 1024 * 1024;
const SOCKET_CHUNK = 64 * 1024;
const VALID = JSON.stringify(batch(recordCompleted));

let keys: KeyServer;
let verifier: NotificationVerifier;
let token: string;

beforeAll(async () => {
  const key = await makeKey('k1');
  keys = await startKeyServer([key.jwk]);
  const clock = new SimulatedClock();
  verifier = createNotificationVerifier({
    appId: '11111111-2222-3333-4444-555555555555',
    openIdConfigurationUrl: keys.openIdUrl,
    clock,
  });
  token = await signToken(clock, key);
});
afterAll(async () => {
  await keys.close();
});

interface Probe {
  received: Array<{ items: ParsedNotification[]; caller: VerifiedCaller | undefined }>;
  errors: NotificationError[];
  consumerErrors: unknown[];
  /** Body bytes the server had read from the socket when each error was decided. */
  bytesAtError: number[];
  /** Body bytes handed to the handler when each error was decided. */
  deliveredAtError: number[];
}

function makeHandler(server: { current?: TestServer }, opts: Partial<NotificationHandlerOptions> = {}) {
  const probe: Probe = {
    received: [],
    errors: [],
    consumerErrors: [],
    bytesAtError: [],
    deliveredAtError: [],
  };
  const handler = createNotificationHandler({
    verifier,
    limitBytes: LIMIT,
    onNotifications: (items, caller) => {
      probe.received.push({ items, caller });
    },
    onError: (err) => {
      probe.errors.push(err);
      probe.bytesAtError.push(server.current?.bytesRead() ?? -1);
      probe.deliveredAtError.push(server.current?.bytesDelivered() ?? -1);
    },
    onConsumerError: (err) => probe.consumerErrors.push(err),
    ...opts,
  });
  return { handler, probe };
}

const json = { 'content-type': 'application/json' };
const auth = () => ({ ...json, authorization: `Bearer ${token}` });

/** A body of `total` bytes sent as a stream (chunked transfer), 64 KiB at a time. */
function chunkedBody(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(SOCKET_CHUNK, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(0x20));
    },
  });
}

async function post(url: string, body: RequestInit['body'], headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: text ? (JSON.parse(text) as { error: { code: string; message: string } }) : undefined,
  };
}

describe.each([
  ['nodeHandler', startNodeServer],
  ['fetchHandler', startFetchServer],
])('%s over loopback HTTP', (name, startServer) => {
  const ref: { current?: TestServer } = {};
  afterEach(async () => {
    await ref.current?.close();
    ref.current = undefined;
  });
  async function setup(opts: Partial<NotificationHandlerOptions> = {}) {
    const { handler, probe } = makeHandler(ref, opts);
    ref.current = await startServer(handler);
    return { url: ref.current.url, probe };
  }

  it('answers 202 with an empty body and hands the parsed batch to onNotifications', async () => {
    const { url, probe } = await setup();
    const res = await post(url, VALID, auth());
    expect(res).toMatchObject({ status: 202, text: '' });
    expect(probe.received).toHaveLength(1);
    const [first] = probe.received;
    expect(first?.caller).toMatchObject({ tenantId: TENANT });
    expect(first?.items[0]).toMatchObject({
      changeType: 'deleted',
      ref: { callId: CALL_ID, operationId: OP_ID },
    });
    expect(probe.errors).toEqual([]);
  });

  it('refuses malformed JSON with 400 malformedJson', async () => {
    const { url, probe } = await setup();
    const res = await post(url, '{"value": [', auth());
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: { code: 'malformedJson', message: 'body is not valid JSON' } });
    expect(probe.received).toEqual([]);
  });

  it('refuses a body that is not a notifications envelope with 400 invalidBody and a short message', async () => {
    const { url, probe } = await setup();
    const res = await post(url, JSON.stringify({ value: { changeType: 'updated' } }), auth());
    expect(res.status).toBe(400);
    expect(res.json?.error.code).toBe('invalidBody');
    expect(res.json?.error.message.length).toBeLessThan(300);
    expect(probe.received).toEqual([]);
  });

  it.each([
    ['__proto__', '{"polluted":"yes"}'],
    ['constructor', '{"prototype":{"polluted":"yes"}}'],
    ['prototype', '{"polluted":"yes"}'],
  ])('refuses a %s key with 400 and leaves Object.prototype alone', async (key, value) => {
    const { url, probe } = await setup();
    const body = `{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/${CALL_ID}","${key}":${value}}]}`;
    const res = await post(url, body, auth());
    expect(res.status).toBe(400);
    expect(res.json?.error).toMatchObject({
      code: 'invalidBody',
      message: expect.stringMatching(/forbidden key/),
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(probe.received).toEqual([]);
  });

  it.each([1000, 100_000])('refuses nesting %i deep with 400 (no stack overflow)', async (depth) => {
    const { url } = await setup();
    const res = await post(url, nested(depth), auth());
    expect(res.status).toBe(400);
    expect(res.json?.error.message).toMatch(/deeper than/);
    expect((await post(url, VALID, auth())).status).toBe(202);
  });

  it('refuses a 5 MB body with a Content-Length: 413 without reading it', async () => {
    const { url, probe } = await setup();
    const res = await post(url, new Uint8Array(FIVE_MB), auth());
    expect(res.status).toBe(413);
    expect(res.json?.error.code).toBe('bodyTooLarge');
    // Refused on the header: the handler was given at most what a fetch adapter pulls up front.
    expect(probe.deliveredAtError[0]).toBeLessThanOrEqual(SOCKET_CHUNK);
    await ref.current?.responseClosed(0);
    expect(ref.current?.bytesRead()).toBeLessThan(LIMIT + SOCKET_CHUNK);
    // The server goes on serving.
    expect((await post(url, VALID, auth())).status).toBe(202);
  });

  it('refuses a 5 MB chunked body with 413 as soon as the limit is passed', async () => {
    const { url, probe } = await setup();
    const res = await post(url, chunkedBody(FIVE_MB), auth());
    expect(res.status).toBe(413);
    expect(res.json?.error.code).toBe('bodyTooLarge');
    // The handler took the limit plus at most the one chunk that crossed it, never the 5 MB.
    expect(probe.deliveredAtError[0]).toBeGreaterThan(LIMIT);
    expect(probe.deliveredAtError[0]).toBeLessThanOrEqual(LIMIT + SOCKET_CHUNK);
    // And once answered, the connection closes: the socket read little more (Node's own buffers).
    await ref.current?.responseClosed(0);
    expect(ref.current?.bytesRead()).toBeLessThan(LIMIT + 4 * SOCKET_CHUNK);
    expect(probe.received).toEqual([]);
    expect((await post(url, VALID, auth())).status).toBe(202);
  });

  it('answers 401 to a bad or missing token, before parsing the body, and delivers nothing', async () => {
    const { url, probe } = await setup();
    const forged = `${token.slice(0, -4)}AAAA`;
    const bad = await post(url, VALID, { ...json, authorization: `Bearer ${forged}` });
    expect(bad.status).toBe(401);
    expect(bad.json?.error.code).toBe('badSignature');
    expect(bad.text).not.toContain(forged);
    const none = await post(url, 'not even json', json);
    expect(none).toMatchObject({ status: 401, json: { error: { code: 'missingToken' } } });
    expect(probe.received).toEqual([]);
    expect(probe.errors.map((e) => e.code)).toEqual(['badSignature', 'missingToken']);
  });

  it('never reads the body of a request with a bad token', async () => {
    const { url, probe } = await setup();
    const big = JSON.stringify(batch(...Array.from({ length: 900 }, () => recordCompleted)));
    expect(big.length).toBeGreaterThan(4 * SOCKET_CHUNK);
    const res = await post(url, big, { ...json, authorization: 'Bearer not.a.token' });
    expect(res.status).toBe(401);
    // nodeHandler: nothing; the fetch adapter pulls one chunk before the handler runs, which never reads it.
    expect(probe.deliveredAtError[0]).toBeLessThanOrEqual(name === 'nodeHandler' ? 0 : SOCKET_CHUNK);
    expect(probe.received).toEqual([]);
  });

  it('answers 415 to a body that is not JSON', async () => {
    const { url } = await setup();
    const res = await post(url, VALID, { ...auth(), 'content-type': 'text/plain' });
    expect(res).toMatchObject({ status: 415, json: { error: { code: 'unsupportedMediaType' } } });
  });

  it('still answers 202 when onNotifications throws, and keeps serving', async () => {
    const { url, probe } = await setup({
      onNotifications: () => {
        throw new Error('consumer bug');
      },
    });
    expect((await post(url, VALID, auth())).status).toBe(202);
    expect((await post(url, VALID, auth())).status).toBe(202);
    expect(probe.consumerErrors.map((e) => (e as Error).message)).toEqual(['consumer bug', 'consumer bug']);
  });

  it('answers 405 to other methods', async () => {
    const { url } = await setup();
    expect((await fetch(url)).status).toBe(405);
  });
});

/** Wait (event-loop turns, no timer) until `done()`; the test timeout catches a hang. */
function until(done: () => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = () => (done() ? resolve() : setImmediate(check));
    check();
  });
}

describe('nodeHandler and client aborts', () => {
  const ref: { current?: TestServer } = {};
  afterEach(async () => {
    await ref.current?.close();
  });

  /** Send headers and part of the body, then drop the connection once the server has the request. */
  async function abortMidBody(server: TestServer) {
    const u = new URL(server.url);
    const req = httpRequest({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: 'POST',
      headers: { ...auth(), 'content-length': '1000' },
    });
    req.on('error', () => {});
    req.write('{"value":[');
    await server.requestArrived(0);
    req.destroy();
  }

  it('an aborted request is answered (closed) and refused, never left hanging', async () => {
    const { handler, probe } = makeHandler(ref, { verifier: false });
    ref.current = await startNodeServer(handler);
    await abortMidBody(ref.current);
    await ref.current.responseClosed(0);
    await until(() => probe.errors.length > 0);
    expect(probe.errors.map((e) => e.code)).toEqual(['invalidBody']);
    expect(probe.received).toEqual([]);
  });

  it("a verifier's verifiedBefore answers a reused header without verify(); other headers go to verify()", async () => {
    let verifies = 0;
    const known = { tenantId: TENANT, appId: 'a', issuer: 'i' };
    const remembering: NotificationVerifier = {
      verify: async (h) => {
        verifies++;
        if (h !== 'Bearer fresh') throw new Error('unexpected');
        return { ...known, appId: 'fresh' };
      },
      verifiedBefore: (h) => (h === 'Bearer reused' ? { ...known } : undefined),
      refresh: async () => {},
    };
    const { handler, probe } = makeHandler(ref, { verifier: remembering });
    ref.current = await startNodeServer(handler);
    const { url } = ref.current;
    for (let i = 0; i < 3; i++)
      expect((await post(url, VALID, { ...json, authorization: 'Bearer reused' })).status).toBe(202);
    expect(verifies).toBe(0);
    expect((await post(url, VALID, { ...json, authorization: 'Bearer fresh' })).status).toBe(202);
    expect((await post(url, VALID, { ...json, authorization: 'Bearer other' })).status).toBe(401);
    expect(verifies).toBe(2);
    await until(() => probe.received.length === 4);
    expect(probe.received.map((r) => r.caller?.appId)).toEqual(['a', 'a', 'a', 'fresh']);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('verifier bug');
      },
    ],
    [
      'returns a Promise (an async implementation)',
      async () => ({ tenantId: TENANT, appId: 'a', issuer: 'i' }),
    ],
    ['returns something that is not a caller', () => ({ tenantId: 42 })],
  ])('a verifiedBefore that %s fails closed: verify() decides, 401 and onError', async (_, faulty) => {
    let verifies = 0;
    const refusing = {
      verify: async () => {
        verifies++;
        throw new Error('forged');
      },
      verifiedBefore: faulty,
      refresh: async () => {},
    } as unknown as NotificationVerifier;
    const { handler, probe } = makeHandler(ref, { verifier: refusing });
    ref.current = await startNodeServer(handler);
    const res = await post(ref.current.url, VALID, { ...json, authorization: 'Bearer forged' });
    expect(res.status).toBe(401);
    expect(res.json?.error.code).toBe('verificationFailed');
    expect(verifies).toBe(1);
    expect(probe.errors.map((e) => e.code)).toEqual(['verificationFailed']);
    expect(probe.received).toEqual([]);
  });

  it('a client that leaves while its token is being checked is not waited for', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: NotificationVerifier = {
      verify: async () => {
        await gate;
        return { tenantId: TENANT, appId: 'a', issuer: 'i' };
      },
      refresh: async () => {},
    };
    const { handler, probe } = makeHandler(ref, { verifier: slow });
    ref.current = await startNodeServer(handler);
    await abortMidBody(ref.current);
    await ref.current.responseClosed(0);
    release();
    // The handler finishes: the refusal is reported once the token check returns.
    await until(() => probe.errors.length > 0);
    expect(probe.errors.map((e) => e.code)).toEqual(['invalidBody']);
    expect(probe.received).toEqual([]);
  });
});

describe('handle()', () => {
  const make = (opts: Partial<NotificationHandlerOptions> = {}) => makeHandler({}, opts);

  it('checks size, then the token, then the body', async () => {
    const { handler, probe } = make();
    const huge = 'x'.repeat(LIMIT + 1);
    expect(await handler.handle(huge, { Authorization: 'Bearer nope' })).toMatchObject({
      status: 413,
      code: 'bodyTooLarge',
    });
    expect(await handler.handle('not json', { Authorization: 'Bearer nope' })).toMatchObject({
      status: 401,
      code: 'malformedToken',
    });
    expect(await handler.handle('not json', { Authorization: `Bearer ${token}` })).toMatchObject({
      status: 400,
      code: 'malformedJson',
    });
    expect(probe.received).toEqual([]);
  });

  it('reads headers in any case and delivers after answering', async () => {
    const { handler, probe } = make();
    const pending = handler.handle(new TextEncoder().encode(VALID), {
      AUTHORIZATION: `Bearer ${token}`,
      'Content-Type': 'application/json; charset=utf-8',
    });
    expect(probe.received).toHaveLength(0);
    expect(await pending).toEqual({ status: 202 });
    expect(probe.received).toHaveLength(1);
  });

  it('a declared Content-Length over the limit is 413 whatever the body', async () => {
    const { handler } = make({ verifier: false });
    expect(await handler.handle(VALID, { 'content-length': String(LIMIT + 1) })).toMatchObject({
      status: 413,
      code: 'bodyTooLarge',
    });
  });

  it('a verifier that fails unexpectedly means 401, never a pass', async () => {
    const broken: NotificationVerifier = {
      verify: async () => {
        throw new Error('bug');
      },
      refresh: async () => {},
    };
    const { handler, probe } = make({ verifier: broken });
    expect(await handler.handle(VALID, { authorization: `Bearer ${token}` })).toMatchObject({
      status: 401,
      code: 'verificationFailed',
    });
    expect(probe.received).toEqual([]);
  });

  it('onError throwing does not change the answer', async () => {
    const { handler } = make({
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect(await handler.handle('x', {})).toMatchObject({ status: 401, code: 'missingToken' });
  });

  it('requires an explicit verifier (or false) and a sane limit', () => {
    expect(() => createNotificationHandler({ onNotifications: () => {} })).toThrow(TypeError);
    expect(() =>
      createNotificationHandler({ verifier: false, limitBytes: 0, onNotifications: () => {} }),
    ).toThrow(TypeError);
  });
});

describe('readBody', () => {
  async function withServer(
    limit: number,
    fn: (url: string, results: Array<Buffer | NotificationError>) => Promise<void>,
  ) {
    const results: Array<Buffer | NotificationError> = [];
    const server = createServer((req, res) => {
      readBody(req, limit).then(
        (b) => {
          results.push(b);
          res.writeHead(200).end();
        },
        (e: NotificationError) => {
          results.push(e);
          res.writeHead(e.status, { connection: 'close' }).end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, results);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  it('returns the body within the limit, 413 over it, 415 for a non-JSON type', async () => {
    await withServer(100, async (url, results) => {
      expect((await fetch(url, { method: 'POST', body: 'a'.repeat(100), headers: json })).status).toBe(200);
      expect((await fetch(url, { method: 'POST', body: 'a'.repeat(101), headers: json })).status).toBe(413);
      expect((await post(url, chunkedBody(1000), json)).status).toBe(413);
      expect(
        (await fetch(url, { method: 'POST', body: '<x/>', headers: { 'content-type': 'application/xml' } }))
          .status,
      ).toBe(415);
      // No content type at all is accepted (Graph sends one, but nothing requires it).
      expect((await fetch(url, { method: 'POST', body: new Uint8Array([1, 2]) })).status).toBe(200);
      expect((results[0] as Buffer).length).toBe(100);
      expect(results.slice(1, 4).map((r) => (r as NotificationError).code)).toEqual([
        'bodyTooLarge',
        'bodyTooLarge',
        'unsupportedMediaType',
      ]);
    });
  });
});
