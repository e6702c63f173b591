/**
 * Test kit for the emulator: a real loopback "bot" that receives and records
 * notifications, a Graph client over the production undici adapter, a raw
 * HTTP helper for requests the typed client refuses to send, and JWT
 * verification against the emulator's own OpenID configuration.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { request } from 'undici';
import type { Clock } from '../../src/adapters/clock.js';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { staticToken } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { type Emulator, type StartEmulatorOptions, startEmulator } from '../../src/emulator/index.js';
import { createGraphClient } from '../../src/graph/client.js';
import type { RecordLimits } from '../../src/graph/limits.js';

export const APP_TOKEN = 'test-app-token';

export interface Received {
  /** Clock time it arrived (NaN without a clock). */
  at: number;
  headers: IncomingHttpHeaders;
  body: { '@odata.type': string; value: Array<Record<string, any>> };
  /** The bot's answer. */
  status: number;
}

export interface Bot {
  url: string;
  received: Received[];
  /** All notification items, flattened in arrival order. */
  items(): Array<Record<string, any>>;
  close(): Promise<void>;
}

/** A bot webhook; `status(n)` answers the n-th POST (default 202, as the comms SDK does). */
export async function startBot(opts: { clock?: Clock; status?: (n: number) => number } = {}): Promise<Bot> {
  const received: Received[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = opts.status?.(n++) ?? 202;
      received.push({
        at: opts.clock ? opts.clock.now() : Number.NaN,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/calls`,
    received,
    items: () => received.filter((r) => r.status < 300).flatMap((r) => r.body.value),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Setup {
  clock: SimulatedClock;
  emu: Emulator;
  bot: Bot;
  graph: ReturnType<typeof createGraphClient>;
  beta: ReturnType<typeof createGraphClient>;
  http: ReturnType<typeof createUndiciHttp>;
  close(): Promise<void>;
}

/** Emulator + bot + clients on one SimulatedClock. Clients make one attempt unless told otherwise. */
export async function setup(
  opts: Omit<StartEmulatorOptions, 'clock'> & {
    maxAttempts?: number;
    botStatus?: (n: number) => number;
  } = {},
): Promise<Setup> {
  const clock = new SimulatedClock();
  const { maxAttempts, botStatus, ...emuOpts } = opts;
  const emu = await startEmulator({ ...emuOpts, clock });
  const bot = await startBot({ clock, status: botStatus });
  const http = createUndiciHttp({
    token: staticToken(APP_TOKEN),
    clock,
    retry: { maxAttempts: maxAttempts ?? 1 },
  });
  const limits: RecordLimits | undefined = opts.limits;
  const client = (graphUrl: string) =>
    createGraphClient({ http, graphUrl, limits, insecureRecordingHosts: [emu.recordingHost] });
  return {
    clock,
    emu,
    bot,
    http,
    graph: client(emu.url),
    beta: client(emu.betaUrl),
    async close() {
      await http.close();
      await emu.close();
      await bot.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One plain request, no retries, no client-side validation. */
export async function raw(
  url: string,
  opts: { method?: string; token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? APP_TOKEN}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(url, {
    method: (opts.method ?? 'GET') as 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.body.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** Verify a notification's bearer JWT the way a bot does: OpenID document -> jwks_uri -> jose. */
export async function verifyNotificationJwt(emu: Emulator, authorization: string | undefined, clock: Clock) {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  if (!token) throw new Error('no bearer token');
  const config = (await raw(emu.openIdConfigurationUrl, { token: null })).json as {
    issuer: string;
    jwks_uri: string;
  };
  const jwks = createRemoteJWKSet(new URL(config.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: config.issuer,
    audience: emu.audience,
    currentDate: new Date(clock.now()),
  });
  return { payload: payload as JWTPayload & { tid?: string }, protectedHeader, token };
}

/** Path of a Graph call URL on the emulator. */
export const callPath = (emu: Emulator, id: string, tail = '', version: 'v1.0' | 'beta' = 'v1.0') =>
  `${version === 'beta' ? emu.betaUrl : emu.url}/communications/calls/${id}${tail}`;
