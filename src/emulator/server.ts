/**
 * The HTTP front of the emulator: matches Graph, recording, OpenID and control
 * paths, stamps request ids and the clock's Date on every answer, checks the
 * app token, applies injected faults (delays wait on the clock with the clock
 * parked, so a shared SimulatedClock can move while the client waits), logs
 * each request, and writes the handler's reply.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { sleep } from '../adapters/clock.js';
import { deferred, type Env } from './context.js';
import {
  badRequest,
  errorBody,
  type GraphFailure,
  methodNotAllowed,
  notFound,
  type RequestIds,
  statusFailure,
  unauthorized,
} from './errors.js';
import type { RequestFaults, RouteName } from './faults.js';
import type { GraphVersion } from './media.js';
import { canonicalGuid } from './random.js';
import type { RequestLog } from './request-log.js';
import { JWKS_PATH, OPENID_PATH } from './signing.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  /** A text body (keepAlive answers an empty text/plain body). */
  text?: string;
  /** Streamed as chunked application/octet-stream. */
  stream?: Readable;
}

export interface RouteParams {
  callId?: string;
  operationId?: string;
  recordingId?: string;
}

export interface RequestContext {
  env: Env;
  req: IncomingMessage;
  route: RouteName;
  version: GraphVersion | undefined;
  /** `{origin}/{version}`. */
  base: string;
  params: RouteParams;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  ids: RequestIds;
  faults: RequestFaults;
  /** Settles once the response is written (or the connection is gone). */
  afterResponse: Promise<void>;
  /** Wait for `work` with the clock parked: the client holding this request open does not freeze simulated time. */
  hold<T>(work: Promise<T>): Promise<T>;
  fail(f: GraphFailure): Reply;
  /** Name the call of this request in the request log. */
  setCallId(id: string): void;
}

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

type Match =
  | { kind: 'route'; route: RouteName; version?: GraphVersion; params: RouteParams; methods: string[] }
  | { kind: 'openid' }
  | { kind: 'jwks' }
  | { kind: 'control' }
  | { kind: 'none'; failure: GraphFailure; version?: GraphVersion };

const segmentNotFound = (seg: string) => notFound(`Resource not found for the segment '${seg}'.`);

/** Which route a method and path name (method mismatches are reported by the caller as 405). */
export function matchPath(path: string): Match {
  if (path === '/_emulator' || path.startsWith('/_emulator/')) return { kind: 'control' };
  if (path.toLowerCase() === OPENID_PATH.toLowerCase()) return { kind: 'openid' };
  if (path === JWKS_PATH) return { kind: 'jwks' };
  let segs: string[];
  try {
    segs = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { kind: 'none', failure: badRequest('Malformed URL.') };
  }
  const lower = segs.map((s) => s.toLowerCase());
  if (lower[0] === '_media' && lower[1] === 'recordings' && segs[2] && segs.length === 3)
    return { kind: 'route', route: 'download', params: { recordingId: segs[2] }, methods: ['GET'] };
  const version: GraphVersion | undefined =
    lower[0] === 'v1.0' ? 'v1.0' : lower[0] === 'beta' ? 'beta' : undefined;
  if (!version) return { kind: 'none', failure: notFound(`No route for ${path.slice(0, 200)}`) };
  const [, root, calls, callId, rawAction, operationId, ...extra] = lower;
  // beta still answers the deprecated /app/calls aliases (keepAlive never had one).
  const legacy = version === 'beta' && root === 'app';
  if ((root !== 'communications' && !legacy) || calls !== 'calls')
    return { kind: 'none', version, failure: segmentNotFound(segs[1] ?? '') };
  if (callId === undefined)
    return { kind: 'route', route: 'createCall', version, params: {}, methods: ['POST'] };
  const params: RouteParams = { callId: segs[3] };
  if (rawAction === undefined)
    return { kind: 'route', route: 'getCall', version, params, methods: ['GET', 'DELETE'] };
  const action = rawAction.replace(/^microsoft\.graph\./, '');
  if (extra.length > 0 || (action !== 'operations' && operationId !== undefined))
    return { kind: 'none', version, failure: segmentNotFound(segs[segs.length - 1] ?? '') };
  const post = (route: RouteName) => ({ kind: 'route' as const, route, version, params, methods: ['POST'] });
  if (action === 'keepalive' && !legacy) return post('keepAlive');
  if (action === 'recordresponse') return post('recordResponse');
  if (action === 'record' && version === 'beta') return post('record');
  if (action === 'cancelmediaprocessing') return post('cancelMediaProcessing');
  if (action === 'answer') return post('answer');
  if (action === 'reject') return post('reject');
  if (action === 'redirect') return post('redirect');
  if (action === 'playprompt') return post('playPrompt');
  if (action === 'subscribetotone') return post('subscribeToTone');
  if (action === 'operations' && operationId !== undefined)
    return {
      kind: 'route',
      route: 'getOperation',
      version,
      params: { ...params, operationId: segs[5] },
      methods: ['GET'],
    };
  return { kind: 'none', version, failure: segmentNotFound(segs[4] ?? '') };
}

export interface ServerParts {
  env: Env;
  log: RequestLog;
  handlers: Record<RouteName, Handler>;
  control: (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    body: () => Promise<unknown>,
  ) => Promise<void>;
}

export function createRequestListener(parts: ServerParts) {
  return (req: IncomingMessage, res: ServerResponse) => {
    handle(parts, req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'generalException', message: 'Emulator error.' } }));
      } else res.destroy();
    });
  };
}

async function handle(
  { env, log, handlers, control }: ServerParts,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const { clock } = env;
  const now = clock.now();
  const requestId = randomUUID();
  const sentId = header(req, 'client-request-id');
  const ids: RequestIds = { requestId, clientRequestId: sentId ?? requestId, now };
  res.setHeader('request-id', requestId);
  res.setHeader('client-request-id', ids.clientRequestId);
  res.setHeader('date', new Date(now).toUTCString());
  res.setHeader(
    'x-ms-ags-diagnostic',
    JSON.stringify({ ServerInfo: { DataCenter: 'Emulator', Slice: 'E', Ring: '0', ScaleUnit: '0' } }),
  );
  const method = (req.method ?? 'GET').toUpperCase();
  const rawUrl = req.url ?? '/';
  const path = rawUrl.split('?')[0] ?? '/';
  const readJson = () => readBody(req);
  const match = matchPath(path);
  if (match.kind === 'control') return control(req, res, path, readJson);

  const record = log.start({
    at: now,
    method,
    path,
    route:
      match.kind === 'route'
        ? match.route
        : match.kind === 'none'
          ? 'unknown'
          : match.kind === 'openid'
            ? 'openIdConfiguration'
            : 'jwks',
    callId:
      match.kind === 'route' && match.params.callId
        ? (canonicalGuid(match.params.callId) ?? match.params.callId)
        : undefined,
    requestId,
    clientRequestId: sentId,
  });
  const done = deferred();
  res.on('finish', () => {
    record.status = res.statusCode;
    done.resolve();
  });
  res.on('close', () => done.resolve());

  if (match.kind === 'openid')
    return write(res, { status: 200, json: env.signer.openIdConfiguration(env.origin) });
  if (match.kind === 'jwks') return write(res, { status: 200, json: await env.signer.jwks() });
  const failWith = (f: GraphFailure) => write(res, failure(f, ids));
  if (match.kind === 'none') return failWith(match.failure);
  if (!match.methods.includes(method)) return failWith(methodNotAllowed(method));

  const route = match.route === 'getCall' && method === 'DELETE' ? 'hangUp' : match.route;
  record.route = route;
  let body: unknown;
  try {
    body = await readJson();
  } catch (err) {
    return failWith(badRequest(err instanceof Error ? err.message : 'Invalid request body.'));
  }
  // Graph routes need an app token; the download checks its own recording token.
  if (route !== 'download') {
    const auth = /^Bearer\s+(\S.*)$/i.exec(header(req, 'authorization') ?? '');
    if (!auth?.[1]) return failWith(unauthorized('Access token is empty.'));
    if (!env.options.acceptsAppToken(auth[1].trim()))
      return failWith(unauthorized('Access token validation failure.'));
  } else if (match.params.recordingId) {
    const rec = env.media.findRecording(match.params.recordingId);
    if (rec) record.callId = rec.callId;
  }

  const faults = env.faults.forRequest(route, record.callId);
  record.faults = faults.applied;
  const hold = async <T>(work: Promise<T>): Promise<T> => {
    const release = clock.park?.();
    try {
      return await work;
    } finally {
      release?.();
    }
  };
  if (faults.delayMs > 0) {
    try {
      await hold(sleep(clock, faults.delayMs, env.signal));
    } catch {
      // The emulator is closing: drop the held request like a server going away.
      req.socket.destroy();
      return;
    }
  }
  if (faults.terminal?.kind === 'reset') {
    req.socket.destroy();
    return;
  }
  if (faults.terminal?.kind === 'status')
    return failWith(statusFailure(faults.terminal.status, faults.terminal.retryAfter));

  const version = match.version;
  const ctx: RequestContext = {
    env,
    req,
    route,
    version,
    base: version ? `${env.origin}/${version}` : env.origin,
    params: match.params,
    body,
    ids: { ...ids, now: clock.now() },
    faults,
    afterResponse: done.promise,
    hold,
    fail: (f) => failure(f, { ...ids, now: clock.now() }),
    setCallId: (id) => {
      record.callId = id;
    },
  };
  write(res, await handlers[route](ctx));
}

function failure(f: GraphFailure, ids: RequestIds): Reply {
  return { status: f.status, headers: f.headers, json: errorBody(f, ids) };
}

export function write(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (reply.stream) {
    res.writeHead(reply.status, { 'content-type': 'application/octet-stream' });
    pipeline(reply.stream, res, () => {});
    return;
  }
  if (reply.json !== undefined) {
    const text = JSON.stringify(reply.json);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  if (reply.text !== undefined) {
    res.writeHead(reply.status, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(reply.text),
    });
    res.end(reply.text);
    return;
  }
  res.writeHead(reply.status);
  res.end();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The JSON body, undefined when empty; throws a message fit for a 400. */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('Request body too large.');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('Invalid JSON in request body.');
  }
}
