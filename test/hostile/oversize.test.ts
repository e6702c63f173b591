/**
 * Issue 8: request bodies over the limit get 413 from the runtime's own
 * nodeHandler without being read whole, with a Content-Length and chunked,
 * and the tracked call does not notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NOTIFICATION_LIMIT_BYTES, type NotificationHandler } from '../../src/notifications/http.js';
import { startNodeServer, type TestServer } from '../notifications/servers.js';
import { callEnded, envelope } from './bodies.js';
import { fingerprint, recordingTarget, settle, type Target } from './kit.js';

const LIMIT = DEFAULT_NOTIFICATION_LIMIT_BYTES;
const FIVE_MB = 5 * 1024 * 1024;
const CHUNK = 64 * 1024;

let t: Target;
let server: TestServer;

beforeAll(async () => {
  t = await recordingTarget({ verifyNotifications: false });
  // The runtime's nodeHandler behind a server that counts body bytes read and handed over.
  server = await startNodeServer({ nodeHandler: t.h.runtime.nodeHandler } as NotificationHandler);
});
afterAll(async () => {
  await server?.close();
  await t?.h.close();
});

/** 5 MB of a body that would end the call, were it read: its start is a real notification. */
function oversized(): Uint8Array {
  const head = JSON.stringify(envelope(callEnded(t.callId))).slice(0, -1);
  const out = new Uint8Array(FIVE_MB).fill(0x20);
  out.set(new TextEncoder().encode(`${head},"pad":"`));
  return out;
}

function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

async function post(body: Uint8Array | ReadableStream<Uint8Array>) {
  const res = await fetch(server.url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, json: (await res.json()) as { error: { code: string } } };
}

describe("the runtime's nodeHandler and oversized bodies", () => {
  it.each([
    ['with a Content-Length', 0, () => oversized()],
    ['chunked', 1, () => chunked(oversized())],
  ])('%s: 413 without reading the body whole, nothing changes', async (_how, n, body) => {
    const before = fingerprint(t);
    const rejected = t.h.runtime.stats().rejectedNotifications;
    const res = await post(body());
    expect(res).toEqual({
      status: 413,
      json: { error: { code: 'bodyTooLarge', message: expect.any(String) } },
    });
    await server.responseClosed(n);
    // The handler was given at most the limit and the chunk that crossed it; the socket read
    // little more before the connection closed (Node's buffers), never the 5 MB.
    expect(server.bytesDelivered()).toBeLessThanOrEqual(LIMIT + CHUNK);
    expect(server.bytesRead()).toBeLessThan(LIMIT + 4 * CHUNK);
    await settle(t.h);
    expect(fingerprint(t)).toBe(before);
    expect(t.h.runtime.stats().rejectedNotifications).toBe(rejected + 1);
  });

  it('keeps serving: a body within the limit is read and answered', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      body: JSON.stringify(envelope(callEnded('00000000-0000-0000-0000-000000000002'))),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(202);
  });
});
