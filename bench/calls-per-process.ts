/**
 * Calls per process: N = 1k, 10k and 100k calls tracked by one runtime on a
 * SimulatedClock, each idle in `active` with its keepAlive timer.
 *
 * Per N: heap bytes per call (heapUsed after repeated GC, before vs after
 * tracking), creation time per call, and the wall time of
 * `clock.advance(60 min)`, in which every call sends 4 keepAlives (15-min
 * cadence) to a stub Graph that answers 200 at once in memory. The stub must
 * see exactly 4 x N keepAlives and every call must still be alive, else the
 * bench exits non-zero. Targets (issue 18): <= 1.15 x a bare XState actor with one
 * `after` on the same clock (measured in the same run, interleaved), <= 6 KB per
 * idle call, 100k calls in one
 * process.
 *
 * Each N runs in a fresh child process (this file with `--child N --runs R`),
 * so one size's heap never lands on another's figures; its runs take turns in
 * that process, each on a new runtime and clock. 100k runs once by default
 * (`--runs-100k R` for more): one run takes one to two minutes.
 */
import { performance } from 'node:perf_hooks';
import { type AnyActorRef, createActor, createMachine } from 'xstate';
// The built dist, what users import (`npm run build` first): tsx-compiled source costs ~1.2 KB more per call.
import { SimulatedClock } from '../dist/adapters/clock.js';
import type { HttpAdapter, HttpRequest, HttpResponse } from '../dist/adapters/http.js';
import { createMemoryRecordingStore } from '../dist/adapters/memory-store.js';
import { callMachine } from '../dist/machines/index.js';
import { createCallRuntime } from '../dist/runtime.js';
import {
  type BenchResult,
  benchFile,
  gc,
  log,
  median,
  parseArgs,
  type Row,
  report,
  row,
  startHelper,
} from './lib.js';

const BENCH = 'calls-per-process';
const HOUR = 3600_000;
const TARGET_KB = 6;
const TARGET_RATIO = 1.15;
const BIG = 100_000;
const args = parseArgs();

const guid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What one child process measured for one N. */
interface ChildResult {
  n: number;
  heapBytesPerCall: number;
  createUsPerCall: number;
  simulateMs: number;
  keepAlives: number;
  otherRequests: number;
  alive: number;
  /** Calls whose context counts exactly 4 keepAlives after the hour. */
  fourEach: number;
  heapBytesPerCallAfterHour: number;
  /** Baseline in the same process and run: a bare XState actor with one `after`, same clock, held by id. */
  bareBytesPerActor: number;
  /** The same, for our callMachine's actor alone (no runtime): the floor of a tracked call. */
  machineBytesPerActor: number;
  trackedAfterStop: number;
  timersAfterStop: number;
  ok: boolean;
}

/** Graph that answers every request 200 at once, in memory; counts what it was asked. */
function stubGraph() {
  const counts = { keepAlive: 0, other: 0 };
  const http: HttpAdapter = {
    async request(req: HttpRequest): Promise<HttpResponse> {
      if (req.operation === 'keepAlive') counts.keepAlive++;
      else counts.other++;
      return { status: 200, headers: {}, requestId: undefined, clientRequestId: 'stub', attempts: 1 };
    },
    async close() {},
  };
  return { http, counts };
}

function newRuntime() {
  const clock = new SimulatedClock();
  const graph = stubGraph();
  const runtime = createCallRuntime({
    clock,
    http: graph.http,
    store: createMemoryRecordingStore(),
    notificationAuth: false,
  });
  return { clock, runtime, counts: graph.counts };
}

/**
 * heapUsed once repeated full GCs stop freeing anything noticeable, reading
 * at least `minReadings` times (each GC of a 100k-call heap takes a while).
 */
async function settledHeap(minReadings = 2): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 12; i++) {
    gc();
    await turn();
    const used = process.memoryUsage().heapUsed;
    if (i >= minReadings - 1 && Math.abs(last - used) < 64 * 1024) return used;
    last = used;
  }
  return last;
}

/** Run the same paths once on a throwaway runtime, so compiled code is not counted as per-call heap. */
async function warmUp(): Promise<void> {
  const { clock, runtime } = newRuntime();
  for (let i = 0; i < 300; i++) runtime.track(guid(i));
  await clock.advance(HOUR);
  await runtime.stop();
  await bareRun(300);
}

/** All runs of one N, in this (child) process. */
async function child(n: number, runs: number): Promise<ChildResult[]> {
  // The parent closes our stdin when it dies: never outlive it.
  let finished = false;
  process.stdin.on('end', () => {
    if (!finished) process.exit(1);
  });
  process.stdin.resume();
  await warmUp();
  const results: ChildResult[] = [];
  for (let r = 0; r < runs; r++) {
    log(`N=${n}: run ${r + 1}/${runs}`);
    // Interleaved: odd runs measure the bare baseline first, even runs after ours.
    results.push(await oneRun(n, r % 2 === 1));
  }
  finished = true;
  return results;
}

/** The floor: one bare XState actor per call, idle in a state with one `after` (15 min) on the same clock. */
const bareMachine = createMachine({
  initial: 'idle',
  states: { idle: { after: { 900000: 'due' } }, due: {} },
});

/**
 * Heap per actor of `n` actors made by `make`, each started on one new clock
 * and left idle; `idle(a)` is checked before they are stopped, and no clock
 * timer may be left after.
 */
async function actorsRun(
  what: string,
  n: number,
  make: (id: string, clock: SimulatedClock) => AnyActorRef,
  idle: (a: AnyActorRef) => boolean = () => true,
): Promise<number> {
  const clock = new SimulatedClock();
  const actors = new Map<string, AnyActorRef>();
  const before = await settledHeap(5);
  for (let i = 0; i < n; i++) {
    const id = guid(i);
    const actor = make(id, clock);
    actor.start();
    actors.set(id, actor);
  }
  const after = await settledHeap();
  for (const a of actors.values()) {
    if (!idle(a)) throw new Error(`${what}: not idle`);
    a.stop();
  }
  if (clock.pendingTimers !== 0) throw new Error(`${what}: ${clock.pendingTimers} timers left after stop`);
  return (after - before) / n;
}

const bareRun = (n: number) => actorsRun('bare', n, (id, clock) => createActor(bareMachine, { clock, id }));

/**
 * Our callMachine's actor alone, idle in `established.active` (no runtime, no
 * inspector, no registry): what a tracked call costs before the runtime adds
 * anything, so the bench shows how much of the ratio is the machine's own
 * state (its context, the keepAlive timer) and how much the runtime's.
 */
const machineRun = (n: number) =>
  actorsRun(
    'call machine',
    n,
    (id, clock) => createActor(callMachine, { clock, input: { callId: id, at: clock.now() } }),
    (a) => a.getSnapshot().value?.established === 'active',
  );

async function oneRun(n: number, bareFirst: boolean): Promise<ChildResult> {
  const bareBefore = bareFirst ? await bareRun(n) : undefined;
  const runStarted = performance.now();
  const { clock, runtime, counts } = newRuntime();
  // The previous run's runtime was seen to stay reachable for two event-loop turns after its
  // stop() resolved: two equal readings right away would count it in the baseline.
  const before = await settledHeap(5);
  // Generated inside the measured span: a call's id is part of what it costs.
  const ids = Array.from({ length: n }, (_, i) => guid(i));
  const t0 = performance.now();
  for (const id of ids) runtime.track(id);
  const createMs = performance.now() - t0;
  const idle = await settledHeap();
  log(`N=${n}: tracked in ${(createMs / 1000).toFixed(1)} s; simulating 1 h`);

  const t1 = performance.now();
  await clock.advance(HOUR);
  const simulateMs = performance.now() - t1;
  let fourEach = 0;
  for (const id of ids) if (runtime.get(id)?.getSnapshot().context.keepAlivesSent === 4) fourEach++;
  const alive = runtime.stats().tracked;
  const afterHour = await settledHeap();
  log(`N=${n}: simulated 1 h in ${(simulateMs / 1000).toFixed(1)} s; stopping`);

  await runtime.stop();
  const bareBytesPerActor = bareBefore ?? (await bareRun(n));
  const machineBytesPerActor = await machineRun(n);
  log(`N=${n}: run done in ${((performance.now() - runStarted) / 1000).toFixed(1)} s`);
  const ok = counts.keepAlive === 4 * n && counts.other === 0 && alive === n && fourEach === n;
  return {
    n,
    heapBytesPerCall: (idle - before) / n,
    createUsPerCall: (createMs * 1000) / n,
    simulateMs,
    keepAlives: counts.keepAlive,
    otherRequests: counts.other,
    alive,
    fourEach,
    heapBytesPerCallAfterHour: (afterHour - before) / n,
    bareBytesPerActor,
    machineBytesPerActor,
    trackedAfterStop: runtime.stats().tracked,
    timersAfterStop: clock.pendingTimers,
    ok,
  };
}

/** Every run of one N, in a fresh process; its result line is the helper's first line. */
async function measure(n: number, runs: number): Promise<ChildResult[]> {
  const helper = await startHelper(
    benchFile('calls-per-process.ts'),
    ['--child', String(n), '--runs', String(runs)],
    ['--expose-gc'],
    1_800_000,
  );
  await helper.stop();
  return (helper.hello as { results: ChildResult[] }).results;
}

const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main() {
  const sizesArg = args.extra.get('sizes');
  const sizes =
    typeof sizesArg === 'string'
      ? sizesArg.split(',').map(Number)
      : args.smoke
        ? [100]
        : [1_000, 10_000, BIG];
  const bigArg = Number(args.extra.get('runs-100k'));
  const bigRuns = !args.smoke && Number.isInteger(bigArg) && bigArg > 0 ? bigArg : 1;
  const started = performance.now();
  const rows: Row[] = [];
  const notes: string[] = [];
  const failures: string[] = [];
  const perN: Array<{ n: number; results: ChildResult[] }> = [];

  for (const n of sizes) {
    const runs = n === BIG ? bigRuns : args.runs;
    const results = await measure(n, runs);
    for (const [r, res] of results.entries()) {
      if (!res.ok)
        failures.push(
          `N=${label(n)} run ${r + 1}: ${res.keepAlives} keepAlives (want ${4 * n}), ${res.otherRequests} other requests, ${res.alive} alive, ${res.fourEach} with 4 each`,
        );
    }
    perN.push({ n, results });
    const heapKB = results.map((x) => round(x.heapBytesPerCall / 1024, 2));
    const heap = row(`N=${label(n)} heap per idle call`, 'KB', heapKB, { target: `<= ${TARGET_KB} KB` });
    heap.met = heap.value <= TARGET_KB;
    const bareKB = results.map((x) => round(x.bareBytesPerActor / 1024, 2));
    const ratio = row(
      `N=${label(n)} heap per idle call / bare XState actor`,
      'x',
      results.map((x) => round(x.heapBytesPerCall / x.bareBytesPerActor, 3)),
      {
        target: `<= ${TARGET_RATIO}x`,
      },
    );
    ratio.met = ratio.value <= TARGET_RATIO;
    rows.push(
      ratio,
      heap,
      row(`N=${label(n)} bare XState actor, one after (baseline)`, 'KB', bareKB),
      row(
        `N=${label(n)} callMachine actor alone (no runtime) / bare XState actor`,
        'x',
        results.map((x) => round(x.machineBytesPerActor / x.bareBytesPerActor, 3)),
      ),
      row(
        `N=${label(n)} creation per call`,
        'µs',
        results.map((x) => round(x.createUsPerCall, 1)),
      ),
      row(
        `N=${label(n)} simulate 1 h`,
        'ms',
        results.map((x) => Math.round(x.simulateMs)),
      ),
    );
  }

  // The last size is the one that shows N calls fit in one process (100k outside smoke).
  const largest = perN[perN.length - 1]!;
  rows.push(
    row(
      `N=${label(largest.n)} calls alive after 1 h`,
      'calls',
      largest.results.map((x) => x.alive),
      {
        stat: 'max',
        target: `${label(largest.n)} in one process`,
        met: largest.results.every((x) => x.ok),
      },
    ),
  );

  for (const { n, results } of perN) {
    const ratios = results.map((x) => round(x.heapBytesPerCall / x.bareBytesPerActor, 3));
    notes.push(
      `N=${label(n)}: heap per call / bare actor per run ${ratios.join(', ')} (min ${Math.min(...ratios)}, median ${round(median(ratios), 3)})`,
    );
    const after = round(median(results.map((x) => x.heapBytesPerCallAfterHour)) / 1024, 2);
    notes.push(
      `N=${label(n)}: ${results.length} run(s); stub Graph saw ${results.map((x) => x.keepAlives).join(', ')} keepAlives (want 4 x N = ${4 * n}), ${results.reduce((s, x) => s + x.otherRequests, 0)} other requests; ${results.map((x) => x.alive).join(', ')} alive with 4 keepAlives each: ${results.map((x) => x.fourEach).join(', ')}; heap per call after the hour ${after} KB (median); after runtime.stop(): tracked ${results.map((x) => x.trackedAfterStop).join(', ')}, clock timers pending ${results.map((x) => x.timersAfterStop).join(', ')}`,
    );
  }
  notes.push(
    'callMachine actor alone: createActor(callMachine).start() on the same clock, idle in established.active, no runtime: the part of a tracked call that is our machine (its context and keepAlive timer); the rest of the ratio is the runtime (its registry entry, the inspector that feeds states$ and persistence, the end observer)',
    'heap per idle call: heapUsed after repeated full GCs, before vs after tracking N calls (their id strings included), / N; 1 KB = 1024 B; each call idle in `active` with one keepAlive timer; the runtime has no snapshot store and no inspect observer; after the hour a call costs a little more: each cleared keepAlive deadline waits in the SimulatedClock heap as a small record until its due time (its callback is let go at once)',
    'simulate 1 h: wall time of clock.advance(60 min) on a SimulatedClock, which fires each timer at its own time and lets work settle after each; every call POSTs 4 keepAlives to a stub Graph answering 200 at once (no network)',
    `each N in a fresh process (warmed up on 300 throwaway calls first), its runs one after the other on a new runtime each${sizes.includes(BIG) ? `; N=${label(BIG)} ran ${bigRuns} time(s)${bigRuns < args.runs ? `, not ${args.runs}: one run takes over a minute (--runs-${label(BIG)} R for more)` : ''}` : ''}; bench took ${Math.round((performance.now() - started) / 1000)} s`,
  );
  if (failures.length) notes.push(`FAILED: ${failures.join('; ')}`);

  const result: BenchResult = {
    bench: BENCH,
    params: { sizes, runs: args.runs, bigRuns, hours: 1, targetKB: TARGET_KB },
    rows,
    notes,
  };
  report(args, result);
  return failures.length === 0;
}

const childArg = args.extra.get('child');
if (typeof childArg === 'string') {
  child(Number(childArg), args.runs).then(
    (results) => {
      process.stdout.write(`${JSON.stringify({ results })}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
} else {
  main().then(
    (ok) => process.exit(ok ? 0 : 1),
    (err) => {
      process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
