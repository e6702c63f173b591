/**
 * The live view's server over real loopback HTTP: where it may bind, who may
 * read it, that it is read-only, that the stream carries no secret, and that
 * a browser which stops reading loses frames (counted) instead of growing a
 * buffer, then catches up with a snapshot.
 */
import { connect } from 'node:net';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpAttemptEvent } from '../../src/adapters/http.js';
import { createHarness } from '../../src/testing/harness.js';
import { createLiveView, type LiveView, LiveViewError } from '../../src/view/index.js';
import { fakeRuntime, get, openStream } from './sse.js';

const views: LiveView[] = [];
async function start(opts: Partial<Parameters<typeof createLiveView>[0]> = {}) {
  const view = await createLiveView({ runtime: fakeRuntime(), ...opts });
  views.push(view);
  return view;
}
afterEach(async () => {
  await Promise.all(views.splice(0).map((v) => v.close()));
});

describe('binding and access', () => {
  it('binds to 127.0.0.1 on a free port by default', async () => {
    const view = await start();
    expect(view.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(view.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<table id="calls">');
  });

  it('refuses to bind beyond loopback without auth, with a typed error', async () => {
    const err = await createLiveView({ runtime: fakeRuntime(), host: '0.0.0.0' }).catch((e) => e);
    expect(err).toBeInstanceOf(LiveViewError);
    expect(err.code).toBe('unsafeBind');
    expect(err.message).toContain('auth');
  });

  it('rejects invalid options naming the option', async () => {
    const err = await createLiveView({ runtime: fakeRuntime(), port: 70_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(LiveViewError);
    expect(err.message).toMatch(/^createLiveView: port: /);
    const weak = await createLiveView({ runtime: fakeRuntime(), auth: 'short' }).catch((e) => e);
    expect(weak.message).toMatch(/^createLiveView: auth: /);
    const limits = await createLiveView({ runtime: fakeRuntime(), limits: { maxEnded: -1 } }).catch((e) => e);
    expect(limits.message).toMatch(/^createLiveView: limits\.maxEnded: /);
  });

  it('with a bearer token, serves only requests that carry it (header, or ?token= once, then a cookie)', async () => {
    const token = 'a-long-enough-view-token';
    const view = await start({ host: '0.0.0.0', auth: token });
    const url = view.url.replace('0.0.0.0', '127.0.0.1');
    expect((await get(url, '/')).status).toBe(401);
    expect((await get(url, '/events', { authorization: 'Bearer wrong-wrong-wrong-wrong' })).status).toBe(401);
    expect((await get(url, '/', { authorization: `Bearer ${token}` })).status).toBe(200);
    const first = await get(url, `/?token=${token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
    expect(String(first.headers['set-cookie'])).toContain('HttpOnly');
    expect((await get(url, '/app.js', { cookie })).status).toBe(200);
  });

  it('a predicate decides for auth: false (or a throw) is 401', async () => {
    const view = await start({ auth: (req) => req.headers['x-ok'] === 'yes' });
    expect((await get(view.url, '/')).status).toBe(401);
    expect((await get(view.url, '/', { 'x-ok': 'yes' })).status).toBe(200);
    const throwing = await start({
      auth: () => {
        throw new Error('boom');
      },
    });
    expect((await get(throwing.url, '/')).status).toBe(401);
  });

  it('on loopback, refuses a foreign Host header (DNS rebinding)', async () => {
    const view = await start();
    expect((await get(view.url, '/', { host: 'evil.example:80' })).status).toBe(401);
    expect((await get(view.url, '/', { host: 'localhost' })).status).toBe(200);
  });

  it('is read-only', async () => {
    const view = await start();
    const res = await get(view.url, '/events', {}, 'POST');
    expect(res.status).toBe(405);
  });

  it('turns away viewers beyond maxClients', async () => {
    const view = await start({ maxClients: 1 });
    const one = await openStream(view.url);
    const two = await openStream(view.url);
    expect(one.res.statusCode).toBe(200);
    expect(two.res.statusCode).toBe(503);
    one.close();
    two.close();
  });
});

describe('the stream', () => {
  it('carries no app token, recording token or JWT while a recording runs', async () => {
    const recordingTokens: string[] = [];
    const attempts = new Subject<HttpAttemptEvent>();
    const h = await createHarness({
      onAttempt: (e) => attempts.next(e),
      onRequest: (req) => {
        if (typeof req.auth === 'object') recordingTokens.push(req.auth.bearer);
      },
    });
    try {
      const view = await start({ runtime: h.runtime, requests: attempts, frameMs: 10 });
      const stream = await openStream(view.url);
      const callId = h.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
      const done = h.runtime.record(callId, { stopTones: ['#'] }, async () => 'ok');
      await h.clock.advance(60_000);
      expect((await done).final).toBe('deleted');
      await stream.until((f) => JSON.stringify(f).includes('"step":"deleted"'));
      stream.close();
      const text = stream.text();
      expect(text).toContain('/_media/recordings/');
      expect(recordingTokens.length).toBe(1);
      expect(text).not.toContain(recordingTokens[0]);
      expect(text).not.toContain('test-app-token');
      expect(text).not.toMatch(/eyJ[\w-]+\./);
    } finally {
      await h.close();
    }
  });

  it('skips (and counts) a value it cannot read; the stream goes on', async () => {
    const runtime = fakeRuntime();
    const view = await start({ runtime, frameMs: 10 });
    const stream = await openStream(view.url);
    runtime.states$.next({ at: runtime.now, value: 'active' } as never); // no callId
    runtime.state('call-ok', 'keepAliveDue');
    await stream.until((f) => JSON.stringify(f).includes('"state":"keepAliveDue"'));
    stream.close();
    expect(view.stats().unreadable).toBe(1);
  });

  it('a browser that reads keeps getting one frame per period, even when frames outgrow the socket buffer', async () => {
    const runtime = fakeRuntime();
    const view = await start({ runtime, frameMs: 50 });
    // 1,000 calls: a snapshot of about 100 KB, far above a socket's 16 KB high-water mark.
    for (let i = 0; i < 1_000; i++) runtime.state(`call-${i}`, 'active');
    const stream = await openStream(view.url);
    for (let i = 0; i < 10; i++) {
      runtime.now += 1_000;
      runtime.state(`call-${i}`, 'keepAliveDue');
      await new Promise((r) => setTimeout(r, 50));
    }
    stream.close();
    const frames = stream.frames();
    expect(frames.filter((f) => f.type === 'snapshot')).toHaveLength(1);
    expect(view.stats().framesDropped).toBe(0);
    expect(view.stats().framesSent).toBeLessThan(15);
  });

  it('a browser that stops reading misses frames, counted, and catches up with a snapshot', async () => {
    const runtime = fakeRuntime();
    const view = await start({ runtime, frameMs: 10 });
    const { port } = new URL(view.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    socket.pause();
    // 5,000 calls changing every frame: about 1 MB a frame, more than the socket buffers hold.
    const ids = Array.from({ length: 5_000 }, (_, i) => `call-${String(i).padStart(5, '0')}`);
    for (let round = 0; round < 60 && view.stats().framesDropped === 0; round++) {
      runtime.now += 1_000;
      for (const id of ids) runtime.state(id, round % 2 ? 'active' : 'keepAliveDue');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(view.stats().framesDropped).toBeGreaterThan(0);
    // Reading again: the backlog drains, then a snapshot with the count arrives.
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      raw += c;
    });
    socket.resume();
    await expect.poll(() => /"type":"snapshot".*"dropped":[1-9]/.test(raw), { timeout: 10_000 }).toBe(true);
    socket.destroy();
  });
});
