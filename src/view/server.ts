/**
 * `createLiveView`: a small read-only HTTP server showing a runtime's calls
 * live. The page and its script come from this package; the diagram library
 * (mermaid) from the user's node_modules, never a CDN. Updates go out as
 * Server-Sent Events folded from the runtime's `states$`/`events$`.
 *
 * The runtime never waits for a browser: a frame is serialised once and
 * written to every client; a client with more than `maxBufferBytes` unsent
 * misses frames (counted) until its buffer is empty, then gets a fresh
 * snapshot, so no client holds more than that plus one frame.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type Clock, systemClock } from '../adapters/clock.js';
import type { HttpAttemptEvent } from '../adapters/http.js';
import { toMermaid } from '../diagram.js';
import { callMachine } from '../machines/index.js';
import type { RuntimeEvent, StateChange } from '../runtime.js';
import { COOKIE, createAccess, isLoopbackHost, type LiveViewAuth, LiveViewError } from './access.js';
import { createViewIntake } from './intake.js';
import { createViewModel, type ModelLimits } from './model.js';
import { PAGE_CSS, PAGE_HTML } from './page.js';
import { PAGE_SCRIPT } from './page-script.js';

/** Anything with rxjs's `subscribe({ next })` (an Observable, a Subject). */
export interface Feed<T> {
  subscribe(observer: { next: (value: T) => void; error?: (err: unknown) => void }): { unsubscribe(): void };
}

/** What the view needs from a runtime (a `CallRuntime` has it). */
export interface ViewableRuntime {
  clock: { now(): number };
  states$: Feed<StateChange>;
  events$: Feed<RuntimeEvent>;
  get(callId: string): { getSnapshot(): { context: unknown } } | undefined;
}

export interface LiveViewOptions {
  runtime: ViewableRuntime;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything but loopback needs `auth`. */
  host?: string;
  /** A bearer token (header, or `?token=` once: it becomes a cookie) or a predicate on the request. */
  auth?: LiveViewAuth;
  /** The HTTP adapter's attempts (its `onAttempt`), for the request list with status and retry waits. */
  requests?: Feed<HttpAttemptEvent>;
  /** Most browsers at once (default 8); more get 503. */
  maxClients?: number;
  /** Least wall time between two frames (default 200 ms). */
  frameMs?: number;
  /** Unsent bytes a browser may have before it misses frames (default 1 MiB). */
  maxBufferBytes?: number;
  limits?: Partial<ModelLimits>;
}

export interface LiveView {
  url: string;
  /** `unreadable`: stream values the view skipped (malformed, or a bug of ours). */
  stats(): { clients: number; framesSent: number; framesDropped: number; unreadable: number; calls: number };
  close(): Promise<void>;
}

const optionsSchema = z.object({
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  auth: z
    .union([
      z.string().min(16, 'a bearer token of at least 16 characters'),
      z.custom<(req: IncomingMessage) => boolean>((v) => typeof v === 'function', 'a function'),
    ])
    .optional(),
  maxClients: z.number().int().min(1).max(1000).default(8),
  frameMs: z.number().min(10).max(10_000).default(200),
  limits: z
    .object({
      keepEndedMs: z.number().min(0),
      maxEnded: z.number().int().min(0),
      maxRecordsPerCall: z.number().int().min(1),
      maxRequests: z.number().int().min(0),
    })
    .partial()
    .optional(),
  maxBufferBytes: z
    .number()
    .int()
    .min(16 * 1024)
    .default(1024 * 1024),
});

const SECURITY_HEADERS = {
  // Nothing but this origin: a page that tried another would be blocked (and the test sees it).
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Every state name of the machine, nested ones too (a call's lit state is its leaf, e.g. `active` in `established`). */
function stateNames(states: Record<string, { states: Record<string, unknown> }>): string[] {
  return Object.entries(states).flatMap(([name, node]) => [
    name,
    ...stateNames(node.states as Record<string, { states: Record<string, unknown> }>),
  ]);
}

/** The mermaid bundle when the (optional) peer dependency is installed. */
function mermaidPath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');
  } catch {
    return undefined;
  }
}

interface Client {
  res: ServerResponse;
  /** Missed a frame: gets a snapshot once its buffer is empty. */
  stale: boolean;
  dropped: number;
}

export async function createLiveView(options: LiveViewOptions): Promise<LiveView> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LiveViewError('invalidOption', `createLiveView: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const { port, host, auth, maxClients, frameMs, maxBufferBytes } = parsed.data;
  const loopback = isLoopbackHost(host);
  if (!loopback && !auth)
    throw new LiveViewError(
      'unsafeBind',
      `createLiveView: host ${host} is not loopback; pass an \`auth\` option (bearer token or predicate) to bind there`,
    );
  const runtime = options.runtime;
  const pace: Clock = systemClock; // frames pace with the browser's time; their content follows the runtime's clock
  const now = () => runtime.clock.now();
  const model = createViewModel({
    now,
    contextOf: (id) => runtime.get(id)?.getSnapshot().context as Record<string, unknown> | undefined,
    limits: options.limits,
  });
  const access = createAccess({ loopback, auth });
  const diagram = JSON.stringify({
    call: toMermaid(callMachine, { direction: 'LR' }),
    states: stateNames(callMachine.root.states),
  });
  const mermaid = mermaidPath();

  const clients = new Set<Client>();
  const counters = { framesSent: 0, framesDropped: 0, unreadable: 0 };
  let lastNow = Number.NaN;
  let lastWasDelta = false;
  let timer: unknown;

  // Values are queued and folded into the model at each frame (intake.ts). An observer that
  // throws inside a Subject is rethrown on a timer and kills the process: a value the view cannot
  // read is counted and skipped there, and the runtime goes on.
  const intake = createViewIntake(model, {
    now,
    attempts: !!options.requests,
    unreadable: () => {
      counters.unreadable++;
    },
  });
  const subs = [
    runtime.states$.subscribe({ next: intake.state, error: () => {} }),
    runtime.events$.subscribe({ next: intake.event, error: () => {} }),
    ...(options.requests ? [options.requests.subscribe({ next: intake.attempt, error: () => {} })] : []),
  ];

  const frame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;

  function write(c: Client, chunk: string) {
    if (c.stale || c.res.writableLength > maxBufferBytes) {
      c.stale = true;
      c.dropped++;
      counters.framesDropped++;
      return;
    }
    counters.framesSent++;
    c.res.write(chunk);
  }

  function flush() {
    timer = undefined;
    if (!clients.size) return;
    intake.drain();
    const t = now();
    const delta = model.delta(t);
    // A tick also follows every delta, clock moved or not: the page draws a flood of requests in
    // batches, and this frame tells it the flood has paused.
    const chunk =
      delta || t !== lastNow || lastWasDelta ? frame(delta ?? { type: 'tick', now: t }) : undefined;
    lastNow = t;
    lastWasDelta = !!delta;
    let snapshot: string | undefined;
    for (const c of clients) {
      if (c.stale && c.res.writableLength === 0) {
        // Caught up: everything it missed, in one frame.
        snapshot ??= JSON.stringify(model.snapshot(t)).slice(0, -1);
        c.stale = false;
        write(c, `data: ${snapshot},"dropped":${c.dropped}}\n\n`);
      } else if (chunk) write(c, chunk);
    }
    timer = pace.setTimeout(flush, frameMs);
  }

  function openStream(req: IncomingMessage, res: ServerResponse) {
    if (clients.size >= maxClients) return send(res, 503, 'text/plain', 'too many viewers\n');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const client: Client = { res, stale: false, dropped: 0 };
    clients.add(client);
    res.write('retry: 1000\n\n');
    intake.drain();
    write(client, frame(model.snapshot(now())));
    req.on('close', () => clients.delete(client));
    if (timer === undefined) timer = pace.setTimeout(flush, frameMs);
  }

  function send(res: ServerResponse, status: number, type: string, body: string, extra = {}) {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': type,
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://view.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain', 'read-only\n', { allow: 'GET, HEAD' });
    if (!(await access.allowed(req, url))) return send(res, 401, 'text/plain', 'unauthorized\n');
    // A token given in the address becomes a cookie, and the address loses it.
    if (typeof auth === 'string' && url.searchParams.has('token'))
      return send(res, 303, 'text/plain', '', {
        location: '/',
        'set-cookie': `${COOKIE}=${encodeURIComponent(auth)}; HttpOnly; SameSite=Strict; Path=/`,
      });
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', PAGE_HTML);
      case '/app.js':
        return send(res, 200, 'text/javascript; charset=utf-8', PAGE_SCRIPT);
      case '/app.css':
        return send(res, 200, 'text/css; charset=utf-8', PAGE_CSS);
      case '/diagram.json':
        return send(res, 200, 'application/json', diagram);
      case '/vendor/mermaid.min.js':
        if (!mermaid) return send(res, 404, 'text/plain', 'mermaid is not installed\n');
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/javascript; charset=utf-8' });
        createReadStream(mermaid)
          .on('error', () => res.destroy())
          .pipe(res);
        return;
      case '/events':
        return openStream(req, res);
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new LiveViewError('listenFailed', `createLiveView: ${err.message}`)),
    );
    server.listen(port, host, resolve);
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${shownHost}:${addr.port}/`,
    stats: () => {
      intake.drain();
      return { clients: clients.size, ...counters, calls: model.size };
    },
    async close() {
      for (const s of subs) s.unsubscribe();
      if (timer !== undefined) pace.clearTimeout(timer);
      timer = undefined;
      for (const c of clients) c.res.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
