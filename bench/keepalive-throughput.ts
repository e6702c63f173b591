/**
 * Target 1: keepAlive throughput. A minimal node:http server in its own
 * process answers POST /v1.0/communications/calls/{id}/keepAlive with an
 * empty 200 (401 without `Authorization: Bearer x`, so every contender proves
 * it sent its token). At concurrency 1, 16 and 128 the same number of POSTs
 * goes through our Graph client (the built package, dist/), the fastest
 * correct raw call (`pool.request({ path })` on a Pool with the same
 * connection count and the same headers, a fresh client-request-id included:
 * the ceiling), Node's global fetch and @microsoft/microsoft-graph-client.
 *
 * Each contender lives in its own client process, so one library's garbage
 * and JIT state never lands on another's figures; the contenders take turns
 * in short blocks (order rotated), so a slow spell of the machine hits all of
 * them alike. Only one process sends at a time.
 *
 * Placement (`--pin pinned|shared`, default pinned on a machine with two or
 * more cores): pinned puts the server on core 0 and every client on core 1, so
 * no run's figure depends on where the scheduler happened to put the sender
 * and the server (shared: anywhere, as in production).
 */

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@microsoft/microsoft-graph-client';
import { Dispatcher, Pool, setGlobalDispatcher } from 'undici';
import { createGraphClient, createUndiciHttp, staticToken } from '../dist/index.js';
import {
  type BenchResult,
  benchFile,
  gc,
  type Helper,
  helperCommands,
  helperReady,
  log,
  median,
  pairedRatio,
  pairedRatios,
  parseArgs,
  pin,
  report,
  row,
  startHelper,
} from './lib.js';

const BENCH = 'keepalive-throughput';
const FILE = benchFile('keepalive-throughput.ts');
const CALL_ID = '2f1a0b00-5e6f-4d3c-9a8b-7c6d5e4f3a2b';
const PATH = `/v1.0/communications/calls/${CALL_ID}/keepAlive`;
const CONCURRENCY = [1, 16, 128] as const;
/** Sockets per origin for the pooled clients (our adapter's default). */
const CONNECTIONS = 128;

const CONTENDERS = ['raw', 'fetch', 'msgraph', 'ours'] as const;
/** Throughput targets against raw (issue 18): median of the per-run ratios, and the worst run. */
const TARGETS: Partial<Record<(typeof CONCURRENCY)[number], { median: number; min?: number }>> = {
  16: { median: 0.92, min: 0.85 },
  128: { median: 0.9 },
};
type Name = (typeof CONTENDERS)[number];
const LABEL: Record<Name, string> = {
  raw: 'raw pool.request',
  fetch: 'fetch',
  msgraph: 'msgraph client',
  ours: 'ours',
};

/** Sends every request to the loopback origin, whatever origin it was made for. */
class ToLoopback extends Dispatcher {
  constructor(
    private readonly pool: Pool,
    private readonly origin: string,
  ) {
    super();
  }
  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.pool.dispatch({ ...opts, origin: this.origin }, handler);
  }
  override close(): Promise<void> {
    return this.pool.close();
  }
  override destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

const args = parseArgs();
const role = args.extra.get('role');

if (role === 'server') serve();
else if (role === 'client') client(args.extra.get('client') as Name, String(args.extra.get('origin')));
else await main();

/** The server process: as little work per request as node:http allows. */
function serve() {
  const route = /^\/v1\.0\/communications\/calls\/[^/]+\/keepAlive$/;
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    const ok = req.method === 'POST' && route.test(req.url ?? '');
    const authed = req.headers.authorization === 'Bearer x';
    res.writeHead(!authed ? 401 : ok ? 200 : 404, { 'content-length': '0' });
    res.end();
  });
  server.keepAliveTimeout = 120_000;
  server.maxRequestsPerSocket = 0;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    helperReady({ port: typeof addr === 'object' && addr ? addr.port : 0 }, () => server.close());
  });
}

interface Contender {
  call: () => Promise<void>;
  close: () => Promise<void>;
}

function contender(name: Name, origin: string): Contender {
  const url = `${origin}${PATH}`;
  switch (name) {
    case 'raw': {
      const pool = new Pool(origin, { connections: CONNECTIONS });
      return {
        // The same request as ours on the wire: path only (no URL parsing), the same headers.
        async call() {
          const res = await pool.request({
            path: PATH,
            method: 'POST',
            headers: {
              'client-request-id': randomUUID(),
              authorization: 'Bearer x',
              accept: 'application/json',
              'user-agent': 'graph-call-machines',
            },
          });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`raw: ${res.statusCode}`);
        },
        close: () => pool.close(),
      };
    }
    case 'fetch':
      return {
        async call() {
          const res = await fetch(url, {
            method: 'POST',
            headers: { authorization: 'Bearer x', accept: 'application/json' },
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`fetch: ${res.status}`);
        },
        close: async () => {},
      };
    case 'msgraph': {
      // The SDK sends its token only to https Graph hosts (it deletes an Authorization header
      // for any other URL), so it talks to https://graph.microsoft.com as a user's bot does,
      // and the global dispatcher (which Node's fetch uses) carries it to the loopback server
      // over plain http, like the others.
      const pool = new Pool(origin, { connections: CONNECTIONS });
      setGlobalDispatcher(new ToLoopback(pool, origin));
      const msgraph = Client.init({ authProvider: (done) => done(null, 'x'), defaultVersion: 'v1.0' });
      return {
        async call() {
          await msgraph.api(`/communications/calls/${CALL_ID}/keepAlive`).post({});
        },
        close: () => pool.close(),
      };
    }
    case 'ours': {
      const ourHttp = createUndiciHttp({ token: staticToken('x'), connections: CONNECTIONS });
      const graph = createGraphClient({ http: ourHttp, graphUrl: `${origin}/v1.0` });
      return { call: () => graph.keepAlive(CALL_ID), close: () => ourHttp.close() };
    }
    default:
      throw new Error(`unknown contender ${String(name)}`);
  }
}

interface Measure {
  ms: number;
  /** Client process CPU (user + system), µs. */
  cpuUs: number;
}

/** `total` calls, `concurrency` at a time. */
async function drive(call: () => Promise<void>, total: number, concurrency: number): Promise<Measure> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await call();
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuUs: cpu.user + cpu.system };
}

/** A client process: one contender, driven by the orchestrator's commands. */
function client(name: Name, origin: string) {
  const k = contender(name, origin);
  helperCommands(
    { ready: name },
    async (cmd) => {
      if (cmd.op === 'settle') {
        // V8 sweeps concurrently after a forced GC: let it finish before measuring.
        gc();
        await delay(100);
        return {};
      }
      const m = await drive(k.call, Number(cmd.n), Number(cmd.c));
      return { ...m };
    },
    () => k.close(),
  );
}

async function main() {
  const requests = args.smoke ? 200 : Number(args.extra.get('requests') ?? 20_000);
  const blocks = args.smoke ? 2 : 10;
  const blockSize = Math.ceil(requests / blocks);
  const total = blockSize * blocks;
  const warmup = args.smoke ? 20 : Math.max(CONNECTIONS * 4, Math.round(requests / 10));
  // `--contenders raw,ours` narrows the field (for profiling).
  const pick = args.extra.get('contenders');
  const names = CONTENDERS.filter((n) => typeof pick !== 'string' || pick.split(',').includes(n));

  const pinArg = args.extra.get('pin');
  const pinned = os.cpus().length >= 2 && (pinArg === undefined ? true : pinArg === 'pinned');
  const server = await startHelper(FILE, ['--role', 'server']);
  if (pinned) pin(server.child.pid, '0');
  const origin = `http://127.0.0.1:${server.hello.port}`;
  const clients = new Map<Name, Helper>();
  // results per concurrency per contender: one figure per run
  const rps = new Map(CONCURRENCY.map((c) => [c, new Map(names.map((n) => [n, [] as number[]]))]));
  const cpu = new Map(CONCURRENCY.map((c) => [c, new Map(names.map((n) => [n, [] as number[]]))]));

  try {
    for (const n of names) {
      const client = await startHelper(
        FILE,
        ['--role', 'client', '--client', n, '--origin', origin],
        ['--expose-gc'],
      );
      if (pinned) pin(client.child.pid, '1');
      clients.set(n, client);
    }
    for (let run = 0; run < args.runs; run++) {
      for (const c of CONCURRENCY) {
        for (const n of names) {
          await clients.get(n)!.ask({ op: 'drive', n: warmup, c });
          await clients.get(n)!.ask({ op: 'settle' });
        }
        const sum = new Map(names.map((n) => [n, { ms: 0, cpuUs: 0 }]));
        for (let b = 0; b < blocks; b++) {
          for (let i = 0; i < names.length; i++) {
            const n = names[(i + b + run) % names.length]!;
            const m = await clients.get(n)!.ask<Measure>({ op: 'drive', n: blockSize, c });
            const acc = sum.get(n)!;
            acc.ms += m.ms;
            acc.cpuUs += m.cpuUs;
          }
        }
        for (const [n, acc] of sum) {
          rps
            .get(c)!
            .get(n)!
            .push(total / (acc.ms / 1000));
          cpu
            .get(c)!
            .get(n)!
            .push(acc.cpuUs / total);
        }
        log(
          `run ${run + 1}/${args.runs} c=${c}: ${[...sum].map(([n, a]) => `${n} ${Math.round(total / (a.ms / 1000))}`).join(', ')} req/s`,
        );
      }
    }
  } finally {
    for (const h of clients.values()) await h.stop();
    await server.stop();
  }

  const result: BenchResult = {
    bench: BENCH,
    params: {
      requests: total,
      blocks,
      warmup,
      runs: args.runs,
      placement: pinned ? 'pinned' : 'shared',
      concurrency: CONCURRENCY,
      connections: CONNECTIONS,
    },
    rows: [],
    notes: [],
  };
  const cpuNote: string[] = [];
  for (const c of CONCURRENCY) {
    const r = rps.get(c)!;
    const cu = cpu.get(c)!;
    const raw = r.get('raw');
    const vsRaw = (samples: number[]) => {
      if (!raw) return {};
      const ratios = pairedRatios(samples, raw);
      return { ratio: median(ratios), ratioMin: Math.min(...ratios), vs: 'raw' };
    };
    for (const n of names) {
      const samples = r.get(n)!;
      if (n !== 'ours') {
        result.rows.push(row(`c=${c} ${LABEL[n]}`, 'req/s', samples, n === 'raw' ? {} : vsRaw(samples)));
        continue;
      }
      const goal = TARGETS[c];
      const vs = vsRaw(samples);
      result.rows.push(
        row(`c=${c} ours`, 'req/s', samples, {
          ...vs,
          ...(goal && vs.ratio !== undefined
            ? {
                target: `>= ${goal.median} x raw${goal.min ? `, min >= ${goal.min}` : ''}`,
                met: vs.ratio >= goal.median && (!goal.min || vs.ratioMin >= goal.min),
              }
            : {}),
        }),
      );
      const ms = r.get('msgraph');
      if (ms) {
        const vsMs = pairedRatio(samples, ms);
        result.rows.push(
          row(`c=${c} ours vs msgraph`, 'req/s', samples, {
            ratio: vsMs,
            vs: 'msgraph',
            target: '>= 2 x msgraph',
            met: vsMs >= 2,
          }),
        );
      }
      const rawCpu = cu.get('raw');
      if (rawCpu) {
        const ratios = pairedRatios(cu.get('ours')!, rawCpu);
        const ratio = median(ratios);
        result.rows.push(
          row(`c=${c} ours client CPU per request`, 'µs', cu.get('ours')!, {
            ratio,
            ratioMin: Math.min(...ratios),
            vs: 'raw',
            ...(c === 1 ? {} : { target: '<= 1.15 x raw', met: ratio <= 1.15 }),
          }),
        );
      }
    }
    cpuNote.push(`c=${c} ${names.map((n) => `${n} ${median(cu.get(n)!).toFixed(1)}`).join(', ')}`);
  }
  result.notes.push(
    `keepalive-throughput: ${total} POSTs per contender, concurrency and run, in ${blocks} interleaved blocks after ${warmup} warm-up; server and each contender in their own process, ${pinned ? 'pinned: the server on core 0, the clients on core 1' : 'unpinned'}; ours runs the built package (dist/). Ratios: median of the per-run ratios; min: the worst run. Client CPU µs per request (median): ${cpuNote.join('; ')}.`,
  );
  report(args, result);
}
