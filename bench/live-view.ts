/**
 * live-view: what the live view costs the runtime. One runtime process tracks
 * 1,000 calls on the wall clock (keepAlive every 5 s against a bare stub Graph
 * in its own process: 200 keepAlives and 400 state changes a second), with
 * and without `createLiveView` plus one headless Chromium showing the page
 * (its own process: only the runtime process's CPU is measured), and, to
 * tell the view's own work from a browser competing for the same cores, with
 * the view and a bare SSE reader process. Runs interleave the three modes
 * (each first in turn), each in a fresh process: warm-up, then the CPU of a
 * fixed window. The figure: extra CPU per keepAlive of the runtime process
 * with the view and one browser, min and median over the runs.
 *
 *   node --expose-gc --import tsx bench/live-view.ts [--runs 5] [--calls 1000] [--window 15]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

const FILE = benchFile('live-view.ts');
const CHROMIUM = process.env.GCM_CHROMIUM ?? '/usr/bin/chromium';
const args = parseArgs();
const role = args.extra.get('role');
const INTERVAL_MS = 5_000;

/** A runtime process: N calls kept alive every 5 s, with the view when asked. */
async function runtimeRole() {
  const origin = String(args.extra.get('graph'));
  const calls = Number(args.extra.get('calls'));
  const withView = args.extra.has('view');
  const attempts = new Subject<HttpAttemptEvent>();
  const http = createUndiciHttp({
    token: staticToken('bench-token'),
    ...(withView ? { onAttempt: (e: HttpAttemptEvent) => attempts.next(e) } : {}),
  });
  const runtime = createCallRuntime({
    graphUrl: `${origin}/v1.0`,
    http,
    notificationAuth: false,
    callPolicy: { keepAliveIntervalMs: INTERVAL_MS, keepAliveDeadlineMs: 60_000, allowCustomIntervals: true },
  });
  const view = withView ? await createLiveView({ runtime, requests: attempts }) : undefined;
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

function startChromium(url: string): { child: ChildProcess; stop(): Promise<void> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gcm-bench-chromium-'));
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${dir}`,
      url,
    ],
    // Its own process group: stopping it stops its helpers (zygote, crashpad) too.
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.pid && child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid, 'SIGTERM');
        const killer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      await delay(500);
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      } catch (err) {
        log(`could not remove ${dir}: ${(err as Error).message}`);
      }
    },
  };
}

interface Sample {
  cpuMs: number;
  keepAlivesPerSec: number;
  view?: { clients: number; framesSent: number; framesDropped: number };
}

/** No view; the view with Chromium on the page; the view with a bare SSE reader (no rendering). */
type Mode = 'plain' | 'chromium' | 'reader';
const MODES: Mode[] = ['plain', 'chromium', 'reader'];

/** A separate process that reads the event stream and throws it away: the view's cost without a browser. */
function startReader(url: string): { stop(): Promise<void> } {
  const code = `fetch(${JSON.stringify(`${url}events`)}).then(async (r) => { for await (const _ of r.body) {} })`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      if (child.pid && child.exitCode === null && child.signalCode === null)
        process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}

async function measure(origin: string, calls: number, mode: Mode, windowS: number): Promise<Sample> {
  const rt = await startHelper(FILE, [
    '--role',
    'runtime',
    '--graph',
    origin,
    '--calls',
    String(calls),
    ...(mode === 'plain' ? [] : ['--view']),
  ]);
  const url = String(rt.hello.url);
  const client = mode === 'chromium' ? startChromium(url) : mode === 'reader' ? startReader(url) : undefined;
  try {
    await delay(5_000); // warm-up: every call armed, the page loaded and streaming
    await rt.ask({ op: 'settle' });
    const c0 = await rt.ask<{ cpuUs: number }>({ op: 'cpu' });
    const t0 = performance.now();
    const graph0 = await countKeepAlives(origin);
    await delay(windowS * 1000);
    const c1 = await rt.ask<{ cpuUs: number }>({ op: 'cpu' });
    const graph1 = await countKeepAlives(origin);
    const seconds = (performance.now() - t0) / 1000;
    const s1 = await rt.ask<{ view: Sample['view'] | null }>({ op: 'stats' });
    return {
      cpuMs: (c1.cpuUs - c0.cpuUs) / 1000 / seconds,
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
  const graph = await startHelper(FILE, ['--role', 'graph']);
  const origin = `http://127.0.0.1:${graph.hello.port}`;
  const cpu = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  const extra = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  const notes: string[] = [];
  const loadAtStart = load();
  try {
    for (let run = 0; run < args.runs; run++) {
      // Each mode goes first in turn.
      const order = MODES.map((_, i) => MODES[(i + run) % MODES.length] as Mode);
      const got = new Map<Mode, Sample>();
      for (const mode of order) {
        const s = await measure(origin, calls, mode, windowS);
        got.set(mode, s);
        log(
          `run ${run + 1} ${mode.padEnd(8)}: ${s.cpuMs.toFixed(1)} ms CPU/s, ${s.keepAlivesPerSec.toFixed(0)} keepAlives/s${s.view ? `, frames ${s.view.framesSent} sent / ${s.view.framesDropped} dropped, ${s.view.clients} client` : ''}`,
        );
        if (mode !== 'plain' && s.view?.clients !== 1)
          notes.push(`run ${run + 1} ${mode}: no client connected`);
      }
      const plain = got.get('plain') as Sample;
      for (const mode of MODES) {
        const s = got.get(mode) as Sample;
        cpu.get(mode)?.push(s.cpuMs);
        // CPU per keepAlive, so a run that served a little more load is not charged for it.
        if (mode !== 'plain') extra.get(mode)?.push((perKeepAlive(s) / perKeepAlive(plain) - 1) * 100);
      }
    }
  } finally {
    await graph.stop();
  }
  const browser = extra.get('chromium') as number[];
  const reader = extra.get('reader') as number[];
  report(args, {
    bench: 'live-view',
    params: { calls, keepAliveIntervalMs: INTERVAL_MS, windowSeconds: windowS, runs: args.runs },
    rows: [
      row(`${calls} calls without view`, 'ms CPU/s', cpu.get('plain') as number[]),
      row(`${calls} calls with view + Chromium`, 'ms CPU/s', cpu.get('chromium') as number[]),
      row(`${calls} calls, 1 browser: extra CPU`, '%', browser, {
        target: '< 5 %',
        met: median(browser) < 5,
      }),
      row(`${calls} calls, 1 SSE reader (no browser): extra CPU`, '%', reader),
    ],
    notes: [
      `extra CPU per keepAlive with the view and Chromium, per interleaved run: ${summary(browser)}`,
      `extra CPU per keepAlive with the view and a bare SSE reader process: ${summary(reader)}`,
      'Chromium runs on the same two cores as the runtime; the SSE-reader row is the view without a browser rendering next to it.',
      `load average (1 min) ${loadAtStart} at the start, ${load()} at the end; runs of the built dist`,
      ...notes,
    ],
  });
}

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
