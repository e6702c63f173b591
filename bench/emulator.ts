/**
 * Emulator speed on the wall clock over real loopback.
 *
 * 1. Startup: startEmulator() until it listens, the first start in a fresh
 *    process (one process per run) and warm starts after it; plus the time
 *    until the first start's JWKS is served (its RSA key pair exists).
 * 2. keepAlive throughput: requests/s the emulator answers at concurrency 1,
 *    16 and 128, against a minimal node:http server answering the same route
 *    (keepalive-throughput.ts's server role) as the baseline. Each server runs
 *    in its own process and the load comes from a third one (raw undici on a
 *    Pool, one call per worker), so the figures are the servers'. The two
 *    servers take turns in blocks, order rotated, so a slow spell of the
 *    machine hits both.
 * Any answer other than 200 fails the bench (non-zero exit).
 */
import { performance } from 'node:perf_hooks';
import {
  type BenchResult,
  benchFile,
  commonServerOp,
  type Helper,
  helperCommands,
  helperReady,
  log,
  median,
  pairedRatio,
  parseArgs,
  poolsByOrigin,
  report,
  row,
  startHelper,
} from './lib.js';

const BENCH = 'emulator';
const FILE = benchFile('emulator.ts');
const STARTUP_BUDGET_MS = 200;
const WARM_STARTS = 10;
const CONCURRENCY = [1, 16, 128] as const;
/** One emulated call per worker at the highest concurrency. */
const CALLS = 128;
const SERVERS = ['emulator', 'node:http'] as const;
type ServerName = (typeof SERVERS)[number];

const args = parseArgs();
const role = args.extra.get('role');

const guid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const keepAlivePath = (i: number) => `/v1.0/communications/calls/${guid(i % CALLS)}/keepAlive`;

if (role === 'startup') await startup();
else if (role === 'server') await serve();
else if (role === 'client') client();
else await main();

/** A fresh process: time the first start (JIT and modules cold), then warm ones. */
async function startup() {
  // Imported here so the module load is timed apart from the first start.
  const t0 = performance.now();
  const { startEmulator } = await import('../dist/emulator/index.js');
  const importMs = performance.now() - t0;
  const t1 = performance.now();
  const first = await startEmulator();
  const firstMs = performance.now() - t1;
  // The key pair is made in the background; a bot's first notification check waits for it.
  const jwks = await fetch(`${first.origin}/v1/keys`);
  await jwks.arrayBuffer();
  const keysMs = performance.now() - t1;
  if (jwks.status !== 200) throw new Error(`JWKS answered ${jwks.status}`);
  await first.close();
  const warm: number[] = [];
  for (let i = 0; i < WARM_STARTS; i++) {
    const t = performance.now();
    const emu = await startEmulator();
    warm.push(performance.now() - t);
    await emu.close();
  }
  helperReady({ importMs, firstMs, keysMs, warmMs: median(warm) });
}

/** The emulator under test, on the wall clock, with the calls the client keeps alive. */
async function serve() {
  const { startEmulator } = await import('../dist/emulator/index.js');
  const emu = await startEmulator();
  for (let i = 0; i < CALLS; i++) emu.createCall({ id: guid(i), callbackUri: 'http://127.0.0.1:9/unused' });
  helperReady({ port: Number(new URL(emu.origin).port) }, () => void emu.close());
}

interface Measure {
  ms: number;
  /** Requests answered. */
  count: number;
  /** Load generator CPU (user + system), µs. */
  cpuUs: number;
  failed: number;
}

/** The load generator: raw undici, POSTs `c` at a time to the origin it is told, for `ms`. */
function client() {
  const pools = poolsByOrigin(CALLS);
  helperCommands(
    { ready: 'client' },
    async (cmd) => {
      const common = await commonServerOp(cmd);
      if (common) return common;
      const pool = pools.get(String(cmd.origin));
      let count = 0;
      let failed = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      // Fixed duration rather than a fixed count: the bench takes the same time on a slow machine.
      const end = t0 + Number(cmd.ms);
      const worker = async (w: number) => {
        const path = keepAlivePath(w);
        while (performance.now() < end) {
          const res = await pool.request({
            method: 'POST',
            path,
            headers: { authorization: 'Bearer x' },
          });
          await res.body.dump();
          count++;
          if (res.statusCode !== 200) failed++;
        }
      };
      await Promise.all(Array.from({ length: Number(cmd.c) }, (_, w) => worker(w)));
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { ms, count, cpuUs: cpu.user + cpu.system, failed } satisfies Measure;
    },
    async () => {
      await pools.close();
    },
  );
}

async function main() {
  const blockMs = args.smoke ? 100 : Number(args.extra.get('block-ms') ?? 400);
  const blocks = args.smoke ? 1 : 2;
  const warmupMs = args.smoke ? 50 : 150;

  // 1. startup, one fresh process per run
  const first: number[] = [];
  const warm: number[] = [];
  const keys: number[] = [];
  const imports: number[] = [];
  for (let run = 0; run < args.runs; run++) {
    const h = await startHelper(FILE, ['--role', 'startup']);
    const s = h.hello as { importMs: number; firstMs: number; keysMs: number; warmMs: number };
    await h.stop();
    first.push(s.firstMs);
    warm.push(s.warmMs);
    keys.push(s.keysMs);
    imports.push(s.importMs);
    log(
      `startup run ${run + 1}/${args.runs}: first ${s.firstMs.toFixed(1)} ms, warm ${s.warmMs.toFixed(1)} ms, keys ${s.keysMs.toFixed(1)} ms`,
    );
  }

  // 2. throughput
  const helpers: Helper[] = [];
  const rps = new Map(CONCURRENCY.map((c) => [c, new Map(SERVERS.map((s) => [s, [] as number[]]))]));
  const cpu = new Map(CONCURRENCY.map((c) => [c, new Map(SERVERS.map((s) => [s, [] as number[]]))]));
  let failed = 0;
  try {
    const emu = await startHelper(FILE, ['--role', 'server']);
    helpers.push(emu);
    // The baseline: keepalive-throughput.ts's bare node:http server, same route, empty 200.
    const bare = await startHelper(benchFile('keepalive-throughput.ts'), ['--role', 'server']);
    helpers.push(bare);
    const load = await startHelper(FILE, ['--role', 'client'], ['--expose-gc']);
    helpers.push(load);
    const origin: Record<ServerName, string> = {
      emulator: `http://127.0.0.1:${emu.hello.port}`,
      'node:http': `http://127.0.0.1:${bare.hello.port}`,
    };
    for (let run = 0; run < args.runs; run++) {
      for (const c of CONCURRENCY) {
        for (const s of SERVERS) {
          const m = await load.ask<Measure>({ op: 'drive', origin: origin[s], ms: warmupMs, c });
          failed += m.failed;
        }
        await load.ask({ op: 'settle' });
        const sum = new Map(SERVERS.map((s) => [s, { ms: 0, count: 0, cpuUs: 0 }]));
        for (let b = 0; b < blocks; b++) {
          for (let i = 0; i < SERVERS.length; i++) {
            const s = SERVERS[(i + b + run) % SERVERS.length]!;
            const m = await load.ask<Measure>({ op: 'drive', origin: origin[s], ms: blockMs, c });
            failed += m.failed;
            const acc = sum.get(s)!;
            acc.ms += m.ms;
            acc.count += m.count;
            acc.cpuUs += m.cpuUs;
          }
        }
        for (const [s, acc] of sum) {
          rps
            .get(c)!
            .get(s)!
            .push(Math.round(acc.count / (acc.ms / 1000)));
          cpu
            .get(c)!
            .get(s)!
            .push(acc.cpuUs / acc.count);
        }
        log(
          `throughput run ${run + 1}/${args.runs} c=${c}: ${[...sum].map(([s, a]) => `${s} ${Math.round(a.count / (a.ms / 1000))}`).join(', ')} req/s`,
        );
      }
    }
  } finally {
    for (const h of helpers.reverse()) await h.stop();
  }
  if (failed > 0) throw new Error(`${failed} keepAlives were not answered 200`);

  const result: BenchResult = {
    bench: BENCH,
    params: {
      runs: args.runs,
      warmStarts: WARM_STARTS,
      blockMs,
      blocks,
      warmupMs,
      concurrency: CONCURRENCY,
      calls: CALLS,
      clock: 'system',
      transport: 'loopback',
    },
    rows: [
      row('startup to listening, first in process', 'ms', first.map(round2), {
        target: `< ${STARTUP_BUDGET_MS} ms`,
        met: median(first) < STARTUP_BUDGET_MS,
      }),
      row(`startup to listening, warm (median of ${WARM_STARTS})`, 'ms', warm.map(round2), {
        target: `< ${STARTUP_BUDGET_MS} ms`,
        met: median(warm) < STARTUP_BUDGET_MS,
      }),
      row('first start to JWKS served (key pair made)', 'ms', keys.map(round2)),
    ],
    notes: [],
  };
  for (const c of CONCURRENCY) {
    const r = rps.get(c)!;
    const base = r.get('node:http')!;
    const ours = r.get('emulator')!;
    result.rows.push(
      row(`keepAlive c=${c} emulator`, 'req/s', ours, { ratio: pairedRatio(ours, base), vs: 'node:http' }),
      row(`keepAlive c=${c} bare node:http (baseline)`, 'req/s', base),
    );
  }
  const cpuNote = CONCURRENCY.map(
    (c) => `c=${c} ${SERVERS.map((s) => `${s} ${median(cpu.get(c)!.get(s)!).toFixed(1)}`).join(', ')}`,
  ).join('; ');
  result.notes.push(
    `emulator: startup is timed in a fresh process per run after the module is imported (import of the built dist, median ${median(imports).toFixed(0)} ms, not counted); the JWKS figure runs from the same start until GET /v1/keys answers, i.e. until the background RSA key pair exists (made once per process).`,
    `emulator: keepAlive POSTs for ${blocks} x ${blockMs} ms per server, concurrency and run, in alternating blocks after ${warmupMs} ms of warm-up each; ${CALLS} emulated calls, one per worker; every answer 200. Emulator, baseline server and load generator each in their own process (2 servers + 1 client on this machine's cores). Load generator CPU µs per request (median): ${cpuNote}.`,
  );
  report(args, result);
}

function round2(x: number) {
  return Math.round(x * 100) / 100;
}
