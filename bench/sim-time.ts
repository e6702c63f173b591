/**
 * Simulated time: how much wall time a long call costs on a SimulatedClock.
 * Targets: 24 simulated hours of one call against the emulator over loopback
 * in < 500 ms of wall time (and, from another issue, under a second).
 *
 * Per run, each case gets a fresh setup (timed apart) and one timed
 * `clock.advance(24 h)`:
 *  - ours: createHarness() (real runtime, real emulator, undici adapter, the
 *    bot's notification server, all on loopback), one call;
 *  - raw loopback (baseline): the same emulator on the same kind of clock, the
 *    same 96 keepAlives with the same headers (client-request-id, accept,
 *    user-agent, the app token) sent by raw undici.request from a bare timer loop:
 *    what the clock, loopback and emulator cost with none of our code;
 *  - stub HTTP: our runtime with an HttpAdapter that answers at once: what
 *    our machines and runtime cost with no network;
 *  - clock only: 96 bare timers with nothing in flight (the settle turns);
 *  - the limit of any XState machine: the smallest actor that keeps Graph's
 *    rule (active -after 15 min-> due; due POSTs keepAlive with raw undici,
 *    back to active on 200, gives up after 45 min), once with the POST as an
 *    invoked promise actor (XState's documented pattern, and ours) and once as
 *    an entry action that sends itself the answer; no inspector, no runtime;
 *  - ours with 10 calls.
 * The cases take turns in rotating order; one warm-up round is not counted.
 * Every run checks that the emulator (or stub) saw exactly one keepAlive per
 * 15 minutes per call, all answered 200, and that every call is still alive;
 * otherwise the bench exits non-zero.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createActor, fromPromise, setup } from 'xstate';
import { SimulatedClock } from '../dist/adapters/clock.js';
import type { HttpAdapter, HttpRequest, HttpResponse } from '../dist/adapters/http.js';
import { createMemoryRecordingStore } from '../dist/adapters/memory-store.js';
import { startEmulator } from '../dist/emulator/index.js';
import { createCallRuntime } from '../dist/runtime.js';
import { createHarness } from '../dist/testing/harness.js';
import { type BenchResult, log, median, pairedRatio, pairedRatios, parseArgs, report, row } from './lib.js';

const BENCH = 'sim-time';
const args = parseArgs();
const HOUR = 3600_000;
const INTERVAL = 15 * 60_000;
const DEADLINE = 45 * 60_000;
const HOURS = args.smoke ? 1 : 24;
const SPAN = HOURS * HOUR;
/** keepAlives per call over the span (the runtime's default 15-minute interval). */
const CYCLES = SPAN / INTERVAL;
const MANY = 10;
const TARGET_MS = 500;
/** Issue 18: ours over raw undici on the same clock and emulator. */
const TARGET_RATIO = 1.5;

interface Timing {
  setupMs: number;
  ms: number;
  /** This process's CPU (user + system) during the advance, ms. */
  cpuMs: number;
}

/** Time one advance: wall and this process's CPU (the emulator runs in it too). */
async function timed(clock: SimulatedClock): Promise<{ ms: number; cpuMs: number }> {
  // No gc() here: on Node 20 a forced full GC just before deoptimises the warm code (284 deopts against 50 without), so each timed day paid for re-optimisation.
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  await clock.advance(SPAN);
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/** Our full stack: harness, `calls` established calls, one advance. */
async function ours(calls: number): Promise<Timing> {
  const t0 = performance.now();
  const h = await createHarness();
  const ids = Array.from({ length: calls }, () => h.call());
  const setupMs = performance.now() - t0;
  try {
    const m = await timed(h.clock);
    for (const id of ids) {
      const ka = h.emulator.control.requests({ route: 'keepAlive', callId: id });
      check(ka.length === CYCLES, `call ${id}: ${ka.length} keepAlives, expected ${CYCLES}`);
      check(
        ka.every((r) => r.status === 200),
        `call ${id}: a keepAlive was not answered 200`,
      );
      check(h.emulator.control.call(id)?.state === 'established', `call ${id} ended in the emulator`);
      check(h.runtime.get(id)?.getSnapshot().status === 'active', `call ${id} ended in the runtime`);
    }
    return { setupMs, ...m };
  } finally {
    await h.close();
  }
}

/** The emulator on a SimulatedClock and one call, keepAlives sent by raw undici (the baselines' sender). */
async function rawSender() {
  const clock = new SimulatedClock();
  const emulator = await startEmulator({ clock });
  const pool = new Pool(emulator.origin, { connections: 1 });
  const { id } = emulator.createCall({ callbackUri: 'http://127.0.0.1:9/unused' });
  const path = `/v1.0/communications/calls/${id}/keepAlive`;
  // The same headers as ours sends (checked on the wire): the fastest correct raw call, not a lighter one.
  const send = async () => {
    const res = await pool.request({
      method: 'POST',
      path,
      headers: {
        'client-request-id': randomUUID(),
        accept: 'application/json',
        'user-agent': 'graph-call-machines',
        authorization: 'Bearer test-app-token',
      },
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`keepAlive answered ${res.statusCode}`);
  };
  /** Every keepAlive reached the emulator and was answered 200; the call is still up. */
  const verify = (who: string) => {
    const ka = emulator.control.requests({ route: 'keepAlive', callId: id });
    check(ka.length === CYCLES && ka.every((r) => r.status === 200), `${who}: ${ka.length} keepAlives`);
    check(emulator.control.call(id)?.state === 'established', `${who}: call ended`);
  };
  const close = async () => {
    await pool.close();
    await emulator.close();
  };
  return { clock, send, verify, close };
}

/** Baseline: keepAlives from raw undici on a bare timer loop. */
async function rawLoopback(): Promise<Timing> {
  const t0 = performance.now();
  const { clock, send, verify, close } = await rawSender();
  const failures: unknown[] = [];
  // Tracked like our adapter's requests, so the clock waits for each exchange.
  const arm = () =>
    clock.setTimeout(() => {
      clock.track(send()).then(arm, (err) => failures.push(err));
    }, INTERVAL);
  arm();
  const setupMs = performance.now() - t0;
  try {
    const m = await timed(clock);
    check(failures.length === 0, `raw keepAlive failed: ${String(failures[0])}`);
    verify('raw');
    return { setupMs, ...m };
  } finally {
    await close();
  }
}

/**
 * The smallest XState actor keeping the 45-minute rule with raw undici as its
 * sender: what XState itself costs per cycle on the same clock and emulator.
 * `invoke`: the POST as an invoked promise actor; `action`: an entry action
 * whose answer comes back as an event (no child actor).
 */
async function minimalXState(how: 'invoke' | 'action'): Promise<Timing> {
  const t0 = performance.now();
  const { clock, send, verify, close } = await rawSender();
  const rule = { after: { [DEADLINE]: 'expired' } } as const;
  const machine =
    how === 'invoke'
      ? setup({ actors: { keepAlive: fromPromise(() => clock.track(send())) } }).createMachine({
          initial: 'active',
          states: {
            active: { after: { [INTERVAL]: 'due' } },
            due: { ...rule, invoke: { src: 'keepAlive', onDone: 'active' } },
            expired: { type: 'final' },
          },
        })
      : setup({
          actions: {
            keepAlive: ({ self }) => {
              clock.track(send()).then(
                () => self.send({ type: 'OK' }),
                () => undefined,
              );
            },
          },
        }).createMachine({
          initial: 'active',
          states: {
            active: { after: { [INTERVAL]: 'due' } },
            due: { ...rule, entry: 'keepAlive', on: { OK: 'active' } },
            expired: { type: 'final' },
          },
        });
  const actor = createActor(machine, { clock }).start();
  const setupMs = performance.now() - t0;
  try {
    const m = await timed(clock);
    check(actor.getSnapshot().value === 'active', `minimal XState (${how}): ${actor.getSnapshot().value}`);
    verify(`minimal XState (${how})`);
    return { setupMs, ...m };
  } finally {
    actor.stop();
    await close();
  }
}

/** Our runtime on a SimulatedClock whose Graph answers every request at once (no network). */
async function stubHttp(): Promise<Timing> {
  const t0 = performance.now();
  const clock = new SimulatedClock();
  let keepAlives = 0;
  const http: HttpAdapter = {
    async request(req: HttpRequest): Promise<HttpResponse> {
      if (req.operation === 'keepAlive') keepAlives++;
      return { status: 200, headers: {}, requestId: undefined, clientRequestId: randomUUID(), attempts: 1 };
    },
    async close() {},
  };
  const runtime = createCallRuntime({
    clock,
    http,
    store: createMemoryRecordingStore(),
    notificationAuth: false,
  });
  const id = randomUUID();
  runtime.track(id);
  const setupMs = performance.now() - t0;
  try {
    const m = await timed(clock);
    check(keepAlives === CYCLES, `stub: ${keepAlives} keepAlives, expected ${CYCLES}`);
    check(runtime.get(id)?.getSnapshot().status === 'active', 'stub: call ended');
    return { setupMs, ...m };
  } finally {
    await runtime.stop();
  }
}

/** The clock's own cost: one re-armed timer per cycle, nothing in flight. */
async function clockOnly(): Promise<Timing> {
  const clock = new SimulatedClock();
  let fired = 0;
  const arm = () =>
    clock.setTimeout(() => {
      fired++;
      arm();
    }, INTERVAL);
  arm();
  const m = await timed(clock);
  check(fired === CYCLES, `clock: ${fired} timers fired`);
  return { setupMs: 0, ...m };
}

const CASES = {
  ours: () => ours(1),
  raw: rawLoopback,
  stub: stubHttp,
  clock: clockOnly,
  xstateInvoke: () => minimalXState('invoke'),
  xstateAction: () => minimalXState('action'),
  many: () => ours(MANY),
} as const;
type CaseName = keyof typeof CASES;
const NAMES = Object.keys(CASES) as CaseName[];

async function main() {
  const ms = new Map(NAMES.map((n) => [n, [] as number[]]));
  const setup = new Map(NAMES.map((n) => [n, [] as number[]]));
  const cpu = new Map(NAMES.map((n) => [n, [] as number[]]));
  log(`warm-up: every case once, ${HOURS} simulated h`);
  for (const n of NAMES) await CASES[n]();
  for (let run = 0; run < args.runs; run++) {
    const order = NAMES.map((_, i) => NAMES[(i + run) % NAMES.length]!);
    for (const n of order) {
      const r = await CASES[n]();
      ms.get(n)!.push(r.ms);
      setup.get(n)!.push(r.setupMs);
      cpu.get(n)!.push(r.cpuMs);
    }
    log(
      `run ${run + 1}/${args.runs}: ${NAMES.map((n) => `${n} ${ms.get(n)!.at(-1)!.toFixed(1)}`).join(', ')} ms`,
    );
  }

  const h = `${HOURS} h`;
  const one = ms.get('ours')!;
  const raw = ms.get('raw')!;
  const stub = ms.get('stub')!;
  const clock = ms.get('clock')!;
  const many = ms.get('many')!;
  const wall = row(`${h} of one call, wall`, 'ms', one.map(round2), {
    ratio: pairedRatio(one, raw),
    vs: 'raw loopback',
    target: `< ${TARGET_MS} ms`,
  });
  wall.met = wall.value < TARGET_MS;
  const ratios = one.map((x, i) => round2(x / raw[i]!));
  const ratioRow = row(`${h} of one call / raw undici, same clock and emulator, warm`, 'x', ratios, {
    target: `<= ${TARGET_RATIO}x`,
  });
  ratioRow.met = ratioRow.value <= TARGET_RATIO;
  // CPU of this process (emulator included) on both sides: what a shared machine's waits for a core leave out.
  const cpuRatios = cpu.get('ours')!.map((x, i) => round2(x / cpu.get('raw')![i]!));
  const cpuRow = row(`${h} of one call / raw undici, CPU of the process`, 'x', cpuRatios, {
    target: `<= ${TARGET_RATIO}x`,
  });
  cpuRow.met = cpuRow.value <= TARGET_RATIO;
  // The ratio ours could reach if our HTTP path cost no more than raw's: raw's whole day plus our machines'
  // and runtime's work on their own (stub, less the clock's turns both already pay).
  const floors = raw.map((r, i) => round2((r + stub[i]! - clock[i]!) / r));
  const floorRow = row(`${h}: floor with our machines' own work (raw + stub - clock) / raw`, 'x', floors);
  // The limit XState itself sets: the smallest actor keeping the rule, same sender, clock and emulator.
  const xInvoke = ms.get('xstateInvoke')!;
  const xAction = ms.get('xstateAction')!;
  const limitRows = [
    row(
      `${h}: minimal XState actor keeping the rule, invoked promise / raw`,
      'x',
      pairedRatios(xInvoke, raw).map(round2),
    ),
    row(
      `${h}: minimal XState actor keeping the rule, entry action / raw`,
      'x',
      pairedRatios(xAction, raw).map(round2),
    ),
    row(
      `${h} of one call / minimal XState actor (invoked promise)`,
      'x',
      pairedRatios(one, xInvoke).map(round2),
    ),
  ];
  const result: BenchResult = {
    bench: BENCH,
    params: {
      simulatedHours: HOURS,
      keepAlivesPerCall: CYCLES,
      manyCalls: MANY,
      runs: args.runs,
      warmup: 1,
      transport: 'loopback',
      http: 'undici',
    },
    rows: [
      ratioRow,
      cpuRow,
      floorRow,
      ...limitRows,
      wall,
      row(
        'per simulated keepAlive cycle',
        'ms',
        one.map((x) => round2(x / CYCLES)),
      ),
      row(`${h}, raw undici -> emulator (baseline)`, 'ms', raw.map(round2)),
      row(`${h} of one call, stub HttpAdapter (no network)`, 'ms', stub.map(round2), {
        ratio: pairedRatio(stub, one),
        vs: 'ours',
      }),
      row(`${h}, bare clock timers (no work)`, 'ms', clock.map(round2)),
      row(`${MANY} calls x ${h}, wall`, 'ms', many.map(round2), {
        ratio: pairedRatio(many, one),
        vs: 'one call',
      }),
      row('setup: harness + one call', 'ms', setup.get('ours')!.map(round2)),
    ],
    notes: [
      `sim-time ratio ours / raw per run: ${ratios.join(', ')} (min ${Math.min(...ratios)}, median ${median(ratios)}); CPU ${cpuRatios.join(', ')} (min ${Math.min(...cpuRatios)}, median ${median(cpuRatios)})`,
      `sim-time: each case gets a fresh setup (not in the wall figure) and one advance of ${h}, ${CYCLES} keepAlives per call, checked in the emulator (all 200, call still established) and in the runtime (call actor active). Target < ${TARGET_MS} ms; the other issue's "< 1 s" is met whenever this is.`,
      `sim-time breakdown: raw (clock + loopback + emulator) and stub (clock + our runtime, no network) bracket ours. Median per-run differences: ours - raw = ${fmt(diff(one, raw))} ms, what our runtime, machines and adapter add over the cheapest client on the same clock and emulator; ours - stub = ${fmt(diff(one, stub))} ms, what the loopback exchanges and the emulator cost our call.`,
      `sim-time CPU of this process during the advance (median ms; emulator and bot server run in it too): ours ${fmt(cpu.get('ours')!)}, raw ${fmt(cpu.get('raw')!)}, stub ${fmt(cpu.get('stub')!)}, ${MANY} calls ${fmt(cpu.get('many')!)}. Wall minus CPU is time the process waited: for loopback I/O, or for a core on a busy machine.`,
      `sim-time limit: the smallest XState actor that keeps the 45-minute rule (after 15 min -> POST keepAlive with raw undici -> back on 200; 45-min deadline), no inspector and no runtime, costs ${median(pairedRatios(xInvoke, raw)).toFixed(2)} x raw with the POST as an invoked promise actor (XState's pattern, and our machine's) and ${median(pairedRatios(xAction, raw)).toFixed(2)} x raw with it as an entry action (medians): the XState step, the actor's timers and the child actor, not our code, are what separate any XState machine from a bare timer loop.`,
      `sim-time: the ${MANY} calls start at the same instant, so their keepAlives fall due together (${MANY * CYCLES} in all), but the clock fires and settles one timer at a time, so the exchanges never overlap and the wall time grows with the number of calls.`,
    ],
  };
  report(args, result);
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const fmt = (xs: number[]) => median(xs).toFixed(1);
const diff = (a: number[], b: number[]) => a.map((x, i) => x - b[i]!);

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
