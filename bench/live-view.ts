import { existsSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { Subject } from 'rxjs';
// The built package, as users import it (`npm run build` first), not the source through tsx.
import type { HttpAttemptEvent } from '../dist/adapters/http.js';
import { createCallRuntime, createUndiciHttp, staticToken } from '../dist/index.js';
import { createLiveView } from '../dist/view/index.js';
import {
  benchFile,
  commonServerOp,
  helperCommands,
  log,
  median,
  parseArgs,
  report,
  row,
  startHelper,
} from './lib.js';
import { ALL_CORES, CHROMIUM, pin, startChromium, startReader } from './live-view-clients.js';
import { treeCpuMs } from './proc-cpu.js';

const FILE = benchFile('live-view.ts');
const args = parseArgs();
const role = args.extra.get('role');
const INTERVAL_MS = 5_000;

/** A runtime process: N calls kept alive every 5 s, with the view when asked. */
async function runtimeRole() {
  const origin = String(args.extra.get('graph'));
  const calls = Number(args.extra.get('calls'));
  const withView = args.extra.has('view');
  // --no-requests: the view without the HTTP adapter's attempts (no onAttempt hook, which puts
  // every request on the adapter's slower retry path), to price that hook apart from the view.
  const hook = withView && !args.extra.has('no-requests');
  const attempts = new Subject<HttpAttemptEvent>();
  const http = createUndiciHttp({
    token: staticToken('bench-token'),
    ...(hook ? { onAttempt: (e: HttpAttemptEvent) => attempts.next(e) } : {}),
  });
  const runtime = createCallRuntime({
    graphUrl: `${origin}/v1.0`,
    http,
    notificationAuth: false,
    callPolicy: { keepAliveIntervalMs: INTERVAL_MS, keepAliveDeadlineMs: 60_000, allowCustomIntervals: true },
  });
  const view = withView
    ? await createLiveView({ runtime, ...(hook ? { requests: attempts } : {}) })
    : undefined;
  // Calls start spread over one interval, so keepAlives flow evenly.
  for (let i = 0; i < calls; i++) {
    runtime.track(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    if (i % 10 === 9) await delay(INTERVAL_MS / (calls / 10));
  }
  helperCommands(
    { url: view?.url ?? null },
    async (cmd) => (await commonServerOp(cmd)) ?? { ...runtime.stats(), view: view?.stats() ?? null },
    async () => {
      await view?.close();
      await runtime.stop();
      await http.close();
    },
  );
}

interface Sample {
  cpuMs: number;
  /** CPU of the browser's (or reader's) process tree, ms per second. */
  clientCpuMs?: number;
  keepAlivesPerSec: number;
  view?: { clients: number; framesSent: number; framesDropped: number };
}

/** No view; the view with Chromium on the page; the view with a bare SSE reader (no rendering). */
type Mode = 'plain' | 'chromium' | 'reader';
const MODES: Mode[] = ['plain', 'chromium', 'reader'];
/** `shared`: the OS places every process; `pinned`: the runtime alone on core 0, the rest on core 1. */
type Placement = 'shared' | 'pinned';

async function measure(
  graph: { origin: string; pid: number | undefined },
  calls: number,
  mode: Mode,
  place: Placement,
  windowS: number,
): Promise<Sample> {
  const pinned = place === 'pinned';
  pin(graph.pid, pinned ? '1' : ALL_CORES);
  const rt = await startHelper(FILE, [
    '--role',
    'runtime',
    '--graph',
    graph.origin,
    '--calls',
    String(calls),
    ...(mode === 'plain' ? [] : ['--view']),
    ...(args.extra.has('no-requests') ? ['--no-requests'] : []),
  ]);
  if (pinned) pin(rt.child.pid, '0');
  const url = String(rt.hello.url);
  const cores = pinned ? '1' : undefined;
  const client =
    mode === 'chromium' ? startChromium(url, cores) : mode === 'reader' ? startReader(url, cores) : undefined;
  const clientCpu = () => (client?.child.pid ? treeCpuMs(client.child.pid) : 0);
  try {
    await delay(5_000); // warm-up: every call armed, the page loaded and streaming
    await rt.ask({ op: 'settle' });
    const c0 = await rt.ask<{ cpuUs: number }>({ op: 'cpu' });
    const b0 = clientCpu();
    const t0 = performance.now();
    const graph0 = await countKeepAlives(graph.origin);
    await delay(windowS * 1000);
    const c1 = await rt.ask<{ cpuUs: number }>({ op: 'cpu' });
    const b1 = clientCpu();
    const graph1 = await countKeepAlives(graph.origin);
    const seconds = (performance.now() - t0) / 1000;
    const s1 = await rt.ask<{ view: Sample['view'] | null }>({ op: 'stats' });
    return {
      cpuMs: (c1.cpuUs - c0.cpuUs) / 1000 / seconds,
      ...(client ? { clientCpuMs: (b1 - b0) / seconds } : {}),
      keepAlivesPerSec: (graph1 - graph0) / seconds,
      ...(s1.view ? { view: s1.view } : {}),
    };
  } finally {
    await client?.stop();
    await rt.stop();
  }
}

/** The stub counts what it answered: proof that the load was the same with and without the view. */
async function countKeepAlives(origin: string): Promise<number> {
  const res = await fetch(`${origin}/count`);
  return Number(await res.text());
}

const perKeepAlive = (s: Sample) => s.cpuMs / s.keepAlivesPerSec;
const summary = (xs: number[]) =>
  `min ${Math.min(...xs).toFixed(2)} %, median ${median(xs).toFixed(2)} %, max ${Math.max(...xs).toFixed(2)} % (samples ${xs.map((r) => r.toFixed(2)).join(', ')})`;
/** The 1-minute load average: on a shared machine it says how much the figures can be trusted. */
const load = () => os.loadavg()[0]!.toFixed(2);

async function main() {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM} (GCM_CHROMIUM): the bench needs a browser`);
  const calls = Number(args.extra.get('calls') ?? (args.smoke ? 100 : 1_000));
  const windowS = Number(args.extra.get('window') ?? (args.smoke ? 3 : 15));
  const pinArg = String(args.extra.get('pin') ?? 'both');
  const places: Placement[] =
    os.cpus().length < 2 ? ['shared'] : pinArg === 'both' ? ['shared', 'pinned'] : [pinArg as Placement];
  const graphHelper = await startHelper(FILE, ['--role', 'graph']);
  const graph = { origin: `http://127.0.0.1:${graphHelper.hello.port}`, pid: graphHelper.child.pid };
  const cases = places.flatMap((place) => MODES.map((mode) => ({ mode, place })));
  const key = (c: { mode: Mode; place: Placement }) => `${c.place} ${c.mode}`;
  const cpu = new Map<string, number[]>(cases.map((c) => [key(c), []]));
  const clientCpu = new Map<string, number[]>(cases.map((c) => [key(c), []]));
  const extra = new Map<string, number[]>(cases.map((c) => [key(c), []]));
  const notes: string[] = [];
  const loads: number[] = [os.loadavg()[0] as number];
  try {
    for (let run = 0; run < args.runs; run++) {
      // Each case goes first in turn.
      const order = cases.map((_, i) => cases[(i + run) % cases.length] as (typeof cases)[number]);
      const got = new Map<string, Sample>();
      for (const c of order) {
        const s = await measure(graph, calls, c.mode, c.place, windowS);
        got.set(key(c), s);
        loads.push(os.loadavg()[0] as number);
        log(
          `run ${run + 1} ${key(c).padEnd(15)}: ${s.cpuMs.toFixed(1)} ms CPU/s, ${s.keepAlivesPerSec.toFixed(0)} keepAlives/s${s.clientCpuMs !== undefined ? `, client ${s.clientCpuMs.toFixed(0)} ms CPU/s` : ''}${s.view ? `, frames ${s.view.framesSent} sent / ${s.view.framesDropped} dropped, ${s.view.clients} client` : ''}, load ${load()}`,
        );
        if (c.mode !== 'plain' && s.view?.clients !== 1)
          notes.push(`run ${run + 1} ${key(c)}: no client connected`);
      }
      for (const c of cases) {
        const s = got.get(key(c)) as Sample;
        const plain = got.get(`${c.place} plain`) as Sample;
        cpu.get(key(c))?.push(s.cpuMs);
        if (s.clientCpuMs !== undefined) clientCpu.get(key(c))?.push(s.clientCpuMs);
        // CPU per keepAlive, against plain in the same placement and run, so a run that served
        // a little more load is not charged for it.
        if (c.mode !== 'plain') extra.get(key(c))?.push((perKeepAlive(s) / perKeepAlive(plain) - 1) * 100);
      }
    }
  } finally {
    await graphHelper.stop();
  }
  // The target figure: pinned when measured (a browser is not on the bot's server), else shared.
  const target = places.includes('pinned') ? 'pinned' : 'shared';
  const rows = places.flatMap((place) => {
    const browser = extra.get(`${place} chromium`) as number[];
    return [
      row(`${place}: ${calls} calls without view`, 'ms CPU/s', cpu.get(`${place} plain`) as number[]),
      row(
        `${place}: ${calls} calls with view + Chromium`,
        'ms CPU/s',
        cpu.get(`${place} chromium`) as number[],
      ),
      row(`${place}: Chromium process tree`, 'ms CPU/s', clientCpu.get(`${place} chromium`) as number[]),
      row(`${place}: ${calls} calls, 1 browser: extra CPU`, '%', browser, {
        ...(place === target ? { target: '< 5 %', met: median(browser) < 5 } : {}),
      }),
      row(
        `${place}: ${calls} calls, 1 SSE reader (no browser): extra CPU`,
        '%',
        extra.get(`${place} reader`) as number[],
      ),
    ];
  });
  report(args, {
    bench: 'live-view',
    params: {
      calls,
      keepAliveIntervalMs: INTERVAL_MS,
      windowSeconds: windowS,
      runs: args.runs,
      places,
      requestsFeed: !args.extra.has('no-requests'),
    },
    rows,
    notes: [
      ...places.flatMap((place) => [
        `${place}: extra CPU per keepAlive with the view and Chromium, per interleaved run: ${summary(extra.get(`${place} chromium`) as number[])}`,
        `${place}: extra CPU per keepAlive with the view and a bare SSE reader process: ${summary(extra.get(`${place} reader`) as number[])}`,
        `${place}: Chromium tree CPU ${cpuSummary(clientCpu.get(`${place} chromium`) as number[])}; SSE reader CPU ${cpuSummary(clientCpu.get(`${place} reader`) as number[])}`,
      ]),
      `target figure: ${target}${target === 'pinned' ? ' (runtime alone on core 0; Graph stub and browser on core 1: in a deployment the browser is on the developer machine)' : ''}`,
      `load average (1 min) min ${Math.min(...loads).toFixed(2)}, median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)} over the runs; runs of the built dist`,
      ...notes,
    ],
  });
}

const cpuSummary = (xs: number[]) =>
  `min ${Math.min(...xs).toFixed(0)}, median ${median(xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)} ms/s`;

/** A bare Graph stub: 200 to every keepAlive, and `/count` says how many. */
async function graphRole() {
  const { createServer } = await import('node:http');
  let count = 0;
  const server = createServer((req, res) => {
    if (req.url === '/count') return res.end(String(count));
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', async () => {
    const addr = server.address();
    const { helperReady } = await import('./lib.js');
    helperReady({ port: typeof addr === 'object' && addr ? addr.port : 0 }, () => server.close());
  });
}

if (role === 'runtime') void runtimeRole();
else if (role === 'graph') void graphRole();
else
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
