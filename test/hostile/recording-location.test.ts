/**
 * Issue 8, recordingLocation rules: the recordingAccessToken goes only to an
 * https location (http only for configured test hosts, and only allowed hosts
 * when an allowlist is set), never follows a redirect, and the app token never
 * goes to a recording host. An "attacker" loopback server counts every
 * connection and header it gets; a recording proxy in front of the emulator
 * shows what a real download sends.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import { staticToken } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { type CallRuntimeOptions, createCallRuntime, type LogEntry } from '../../src/runtime.js';
import { envelope, recordCompleted } from './bodies.js';
import { MIN, SEC } from './kit.js';

const APP_TOKEN = `app-token-canary-${randomBytes(12).toString('hex')}`;

interface Listening {
  server: Server;
  host: string;
  origin: string;
  connections: number;
  requests: Array<{ method?: string; url?: string; authorization?: string }>;
}

async function listen(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const l: Listening = { server, host, origin: `http://${host}`, connections: 0, requests: [] };
  // Any TCP connection counts, a TLS handshake attempt included.
  server.on('connection', () => l.connections++);
  server.prependListener('request', (req: IncomingMessage) =>
    l.requests.push({ method: req.method, url: req.url, authorization: req.headers.authorization }),
  );
  return l;
}

/** Answers anything with a small "recording", after noting what it got. */
const attacker = () => listen((_req, res) => res.writeHead(200, { 'content-type': 'audio/wav' }).end('RIFF'));

const servers: Server[] = [];
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

interface Bench {
  clock: SimulatedClock;
  emulator: Emulator;
  runtime: ReturnType<typeof createCallRuntime>;
  store: ReturnType<typeof createMemoryRecordingStore>;
  logs: LogEntry[];
  /** The recordingAccessTokens the emulator put in its notifications. */
  issuedTokens: string[];
  /** The bot's notification URL. */
  callbackUri: string;
}

/**
 * Emulator + runtime on one SimulatedClock with the real undici adapter, and a bot
 * server that may rewrite each notification body before the runtime sees it.
 */
async function bench(
  opts: {
    insecureHosts?: (emulator: Emulator) => string[];
    recordingHosts?: CallRuntimeOptions['recordingHosts'];
    rewrite?: (body: string) => string;
  } = {},
): Promise<Bench> {
  const clock = new SimulatedClock();
  const emulator = await startEmulator({ clock });
  const store = createMemoryRecordingStore();
  const http = createUndiciHttp({ token: staticToken(APP_TOKEN), clock });
  const logs: LogEntry[] = [];
  const runtime = createCallRuntime({
    clock,
    http,
    store,
    graphUrl: emulator.url,
    notificationAuth: false,
    insecureRecordingHosts: opts.insecureHosts ? opts.insecureHosts(emulator) : [emulator.recordingHost],
    ...(opts.recordingHosts ? { recordingHosts: opts.recordingHosts } : {}),
    log: (e) => logs.push(e),
  });
  const issuedTokens: string[] = [];
  const bot = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body = Buffer.concat(chunks).toString('utf8');
      for (const m of body.matchAll(/"recordingAccessToken":"([^"]+)"/g)) if (m[1]) issuedTokens.push(m[1]);
      if (opts.rewrite) body = opts.rewrite(body);
      const result = await runtime.handleNotification(body, req.headers);
      res.writeHead(result.status).end();
    });
  });
  await new Promise<void>((resolve) => bot.listen(0, '127.0.0.1', resolve));
  servers.push(bot);
  cleanup.push(async () => {
    await runtime.stop();
    await http.close();
    await emulator.close();
  });
  const callbackUri = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/callback`;
  return { clock, emulator, runtime, store, logs, issuedTokens, callbackUri };
}

/** A call with a record in progress (caller speaking 10 min), settled in `recording`. */
async function recording(b: Bench, seconds = 600, maxSeconds = 300) {
  const callId = b.emulator.createCall({
    callbackUri: b.callbackUri,
    script: { caller: { kind: 'speak', seconds } },
  }).id;
  b.runtime.track(callId);
  const clips: number[] = [];
  const done = b.runtime.record(
    callId,
    {
      maxRecordDurationInSeconds: maxSeconds,
      maxSilenceTimeoutInSeconds: 300,
      initialSilenceTimeoutInSeconds: 300,
    },
    (clip) => {
      clips.push(clip.bytes);
    },
  );
  await b.clock.advance(2 * SEC);
  await b.emulator.control.idle();
  const children = b.runtime.get(callId)?.getSnapshot().children as
    | Record<string, { getSnapshot(): unknown } | undefined>
    | undefined;
  const snap = children?.['rec-1']?.getSnapshot() as
    | { context?: { operationId?: string; clientContext?: string } }
    | undefined;
  const ctx = {
    operationId: snap?.context?.operationId ?? '',
    clientContext: snap?.context?.clientContext ?? '',
  };
  if (!ctx.operationId || !ctx.clientContext) throw new Error('the record did not reach the recording state');
  return { callId, operationId: ctx.operationId, clientContext: ctx.clientContext, done, clips };
}

/** Sends a valid completion for the running record that points at `location`; returns the canary token. */
async function completeAt(b: Bench, rec: Awaited<ReturnType<typeof recording>>, location: string) {
  const token = `recording-token-canary-${randomBytes(12).toString('hex')}`;
  const body = envelope(
    recordCompleted({
      callId: rec.callId,
      operationId: rec.operationId,
      clientContext: rec.clientContext,
      recordingLocation: location,
      recordingAccessToken: token,
    }),
  );
  expect(await b.runtime.handleNotification(JSON.stringify(body), {})).toEqual({ status: 202 });
  await b.clock.advance(MIN);
  return token;
}

/** The record failed its download: no clip, no token kept, nothing sent to the attacker, no token logged. */
async function expectRefused(
  b: Bench,
  rec: Awaited<ReturnType<typeof recording>>,
  token: string,
  evil: Listening,
) {
  const out = await rec.done;
  // `deleted`: a failed download still passes through the delete step, so nothing partial stays.
  expect(out).toMatchObject({
    final: expect.stringMatching(/^(failed|deleted)$/),
    outcome: 'downloadFailed',
  });
  expect(rec.clips).toEqual([]);
  expect(await b.store.list()).toEqual([]);
  expect(b.runtime.stats().tokensHeld).toBe(0);
  expect(evil.connections).toBe(0);
  expect(evil.requests).toEqual([]);
  expect(b.emulator.control.requests({ route: 'download' })).toEqual([]);
  const observable = JSON.stringify([b.logs, out]);
  expect(observable).not.toContain(token);
  expect(observable).not.toContain(APP_TOKEN);
}

describe('recordingLocation is checked before any byte is sent', () => {
  it.each([
    ['http on a host that is not a configured test host', (e: Listening) => `${e.origin}/clip.wav`],
    [
      'the same host spelled localhost',
      (e: Listening) => `http://localhost:${e.host.split(':')[1]}/clip.wav`,
    ],
    ['upper-case scheme', (e: Listening) => `HTTP://${e.host}/clip.wav`],
    [
      'the allowed host smuggled in as userinfo',
      (e: Listening, emu: Emulator) => `http://${emu.recordingHost}@${e.host}/_media/recordings/x`,
    ],
    ['ftp', (e: Listening) => `ftp://${e.host}/clip.wav`],
    ['ws', (e: Listening) => `ws://${e.host}/clip.wav`],
    ['protocol-relative', (e: Listening) => `//${e.host}/clip.wav`],
    ['file', () => 'file:///etc/passwd'],
    ['data', () => 'data:audio/wav;base64,UklGRg=='],
    ['javascript', () => 'javascript:fetch("//evil")'],
    ['not a URL', () => 'recordings/clip.wav'],
  ])('%s: refused, the recording token goes nowhere', async (_what, location) => {
    const b = await bench();
    const evil = await attacker();
    servers.push(evil.server);
    const rec = await recording(b);
    const token = await completeAt(b, rec, location(evil, b.emulator));
    await expectRefused(b, rec, token, evil);
  });

  it('https to a host outside the recordingHosts allowlist: refused without a connection', async () => {
    const b = await bench({ recordingHosts: ['recordings.example.com'] });
    const evil = await attacker();
    servers.push(evil.server);
    const rec = await recording(b);
    const token = await completeAt(b, rec, `https://${evil.host}/clip.wav`);
    await expectRefused(b, rec, token, evil);
  });

  it('an allowlist entry without a port does not allow the same host on another port', async () => {
    const b = await bench({ recordingHosts: ['127.0.0.1'] });
    const evil = await attacker();
    servers.push(evil.server);
    const rec = await recording(b);
    // host:port is compared whole: a port the allowlist did not name is another host.
    const token = await completeAt(b, rec, `https://${evil.host}/clip.wav`);
    await expectRefused(b, rec, token, evil);
  });

  it('an allowed host that redirects elsewhere: the redirect is not followed', async () => {
    const evil = await attacker();
    servers.push(evil.server);
    const redirector = await listen((_req, res) =>
      res.writeHead(302, { location: `${evil.origin}/stolen.wav` }).end(),
    );
    servers.push(redirector.server);
    const b = await bench({ insecureHosts: (e) => [e.recordingHost, redirector.host] });
    const rec = await recording(b);
    const token = await completeAt(b, rec, `${redirector.origin}/clip.wav`);
    // The allowed host got the token it was given (its own), and nothing went further.
    expect(redirector.requests.map((r) => r.authorization)).toEqual(
      expect.arrayContaining([`Bearer ${token}`]),
    );
    expect(redirector.requests.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    await expectRefused(b, rec, token, evil);
  });
});

describe('what a real download sends', () => {
  it('only the recordingAccessToken reaches the recording host, never the app token', async () => {
    // A recording proxy in front of the emulator's media route; the bot is told the proxy's address.
    let emulatorOrigin = '';
    const proxy = await listen((req, res) => {
      const upstream = httpRequest(`${emulatorOrigin}${req.url}`, {
        method: req.method,
        headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
      });
      upstream.on('response', (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end();
    });
    servers.push(proxy.server);
    const b = await bench({
      insecureHosts: () => [proxy.host],
      rewrite: (body) => body.split(emulatorOrigin).join(proxy.origin),
    });
    emulatorOrigin = b.emulator.origin;
    const rec = await recording(b, 20, 5);
    await b.clock.advance(MIN);
    const out = await rec.done;
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed' });
    expect(rec.clips).toHaveLength(1);
    // The recording host saw one GET with the token the emulator issued for this recording.
    const issued = b.issuedTokens.filter((t) => t.length > 0);
    expect(issued).toHaveLength(1);
    expect(proxy.requests).toEqual([
      {
        method: 'GET',
        url: expect.stringMatching(/^\/_media\/recordings\//),
        authorization: `Bearer ${issued[0]}`,
      },
    ]);
    expect(JSON.stringify(proxy.requests)).not.toContain(APP_TOKEN);
    // And the emulator's download route, which answers 401 to anything else, served it.
    expect(b.emulator.control.requests({ route: 'download' }).map((r) => r.status)).toEqual([200]);
    expect(await b.store.list()).toEqual([]);
  });
});
