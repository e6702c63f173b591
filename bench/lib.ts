/**
 * Shared plumbing for bench modules: argument parsing, the result format that
 * bench/run.ts collects, statistics, RSS sampling and loopback helper
 * processes. A bench module is a script: run it with `--json` and it prints
 * exactly one JSON line (a BenchResult) on stdout; progress goes to stderr.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

export interface BenchArgs {
  /** Print the result as one JSON line (for bench/run.ts) instead of a table. */
  json: boolean;
  /** Measured repetitions; medians are taken over these. */
  runs: number;
  /** Tiny sizes and one run: proves the bench works, measures nothing. */
  smoke: boolean;
  /** Every other `--flag value` pair, for bench-specific modes. */
  extra: Map<string, string | true>;
}

export function parseArgs(argv = process.argv.slice(2)): BenchArgs {
  const extra = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      extra.set(a.slice(2), next);
      i++;
    } else extra.set(a.slice(2), true);
  }
  const smoke = extra.has('smoke');
  const runsArg = Number(extra.get('runs'));
  const runs = smoke ? 1 : Number.isInteger(runsArg) && runsArg > 0 ? runsArg : 5;
  return { json: extra.has('json'), runs, smoke, extra };
}

/** One line of the table. */
export interface Row {
  /** What was measured, e.g. `c=16 ours`. */
  case: string;
  /** Unit of `value`, e.g. `req/s`, `MB/s`, `MB`. */
  unit: string;
  /** The figure shown: the median of `samples` unless `stat` says otherwise. */
  value: number;
  stat: 'median' | 'max';
  samples: number[];
  /** Ratio to a baseline measured in the same run (median of the per-run ratios). */
  ratio?: number;
  /** The smallest per-run ratio (printed beside the median when set). */
  ratioMin?: number;
  /** Name of the baseline the ratio is against. */
  vs?: string;
  /** Human-readable target, e.g. `>= 0.85 x raw`. */
  target?: string;
  met?: boolean;
}

export interface BenchResult {
  bench: string;
  /** Sizes and settings used, for the record. */
  params: Record<string, unknown>;
  rows: Row[];
  /** Extra lines printed under the table (secondary figures, caveats). */
  notes: string[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A row whose value is the median of `samples`. */
export function row(caseName: string, unit: string, samples: number[], more: Partial<Row> = {}): Row {
  const stat = more.stat ?? 'median';
  const value = stat === 'max' ? Math.max(...samples) : median(samples);
  return { case: caseName, unit, value, stat, samples, ...more };
}

/** The per-run ratios `a[i] / b[i]` (both measured in the same run). */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / (b[i] ?? Number.NaN));
}

/** Median of the per-run ratios `a[i] / b[i]` (both measured in the same run). */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(pairedRatios(a, b));
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/** Markdown table of bench results; `bench` column included. */
function cells(x: Row): { value: string; ratio: string; met: string } {
  const value = `${formatNumber(x.value)} ${x.unit}${x.stat === 'max' ? ' (max of runs)' : ''}`;
  const min = x.ratioMin === undefined ? '' : `; min ${x.ratioMin.toFixed(2)}`;
  const ratio = x.ratio === undefined ? '' : `${x.ratio.toFixed(2)} x ${x.vs ?? 'baseline'}${min}`;
  const met = x.met === undefined ? '' : x.met ? 'yes' : '**no**';
  // A row that is itself a ratio (unit `x`, the baseline named in its case) goes in the ratio column.
  if (x.unit === 'x' && x.ratio === undefined)
    return { value: '', ratio: `${x.value.toFixed(2)} x; min ${Math.min(...x.samples).toFixed(2)}`, met };
  return { value, ratio, met };
}

/** Every row: ratios first (the figure to compare), then this machine's absolute figure. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['bench', 'case', 'ratio (median; min)', 'target', 'met?', "this machine's figure (median)"];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of results) {
    for (const x of r.rows) {
      const c = cells(x);
      lines.push(`| ${r.bench} | ${x.case} | ${c.ratio} | ${x.target ?? ''} | ${c.met} | ${c.value} |`);
    }
  }
  return lines.join('\n');
}

/** Only the rows with a target: the README's summary. */
export function formatTargets(results: readonly BenchResult[]): string {
  return formatTable(results.map((r) => ({ ...r, rows: r.rows.filter((x) => x.target !== undefined) })));
}

export function formatMachine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}`;
}

/** Print the result: one JSON line with `--json`, else a table for humans. */
export function report(args: BenchArgs, result: BenchResult): void {
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (args.smoke) for (const x of result.rows) delete x.met;
  process.stdout.write(`${formatTable([result])}\n`);
  for (const n of result.notes) process.stdout.write(`- ${n}\n`);
  process.stdout.write(`\n${formatMachine(machine())}\n`);
}

/** Progress for humans; stderr so it never mixes with the JSON line. */
export function log(msg: string): void {
  process.stderr.write(`  ${msg}\n`);
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Samples `process.memoryUsage().rss` every `everyMs` and keeps the peak. */
export function sampleRss(everyMs = 50) {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    if (rss > peak) peak = rss;
  }, everyMs);
  return {
    base,
    /** Stop sampling; returns the peak growth over the starting RSS, in bytes. */
    stop(): number {
      clearInterval(timer);
      const rss = process.memoryUsage().rss;
      if (rss > peak) peak = rss;
      return peak - base;
    },
  };
}

/** The repository root (where `tsx` resolves from). */
export function repoRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}

/** Path of a file in bench/, for spawning helper processes. */
export function benchFile(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

export interface Helper {
  /** What the helper printed as its first stdout line (parsed JSON). */
  hello: Record<string, unknown>;
  /** Lines the helper printed after the first one. */
  lines: AsyncIterableIterator<string>;
  child: ChildProcess;
  /** Send one command line to a `helperCommands` helper and wait for its answer. */
  ask<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T>;
  /** Close its stdin (the helper exits on that) and wait; kill it by pid after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Start a helper process (`node --import tsx <file> ...args`) that prints one
 * JSON line when ready (e.g. `{"port":1234}`) and exits when its stdin
 * closes, so it never outlives this process.
 */
export async function startHelper(
  file: string,
  args: string[],
  nodeFlags: string[] = [],
  readyTimeoutMs = 30_000,
): Promise<Helper> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', file, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: repoRoot(),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const rl = createInterface({ input: child.stdout! });
  const lines = rl[Symbol.asyncIterator]();
  const stop = async (graceMs = 10_000) => {
    child.stdin?.end();
    const t = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null && child.pid)
        process.kill(child.pid, 'SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(t);
    rl.close();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const first = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${file} not ready in ${readyTimeoutMs} ms`)),
          readyTimeoutMs,
        );
      }),
      exited.then(() => {
        throw new Error(`${file} exited before it was ready (code ${child.exitCode})`);
      }),
    ]);
    if (first.done) throw new Error(`${file} printed nothing`);
    let queue = Promise.resolve();
    const ask = <T>(command: Record<string, unknown>): Promise<T> => {
      const answer = queue.then(async () => {
        child.stdin!.write(`${JSON.stringify(command)}\n`);
        const line = await lines.next();
        if (line.done) throw new Error(`${file} exited while answering ${JSON.stringify(command)}`);
        const out = JSON.parse(line.value) as { error?: string };
        if (out.error) throw new Error(`${file}: ${out.error}`);
        return out as T;
      });
      queue = answer.then(noop, noop);
      return answer;
    };
    return { hello: JSON.parse(first.value) as Record<string, unknown>, lines, child, ask, stop };
  } catch (err) {
    await stop(1000);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** In a helper process: print the ready line and exit when the parent closes stdin. */
export function helperReady(hello: Record<string, unknown>, onExit?: () => void): void {
  process.stdout.write(`${JSON.stringify(hello)}\n`);
  process.stdin.on('end', () => {
    onExit?.();
    process.exit(0);
  });
  process.stdin.resume();
}

/**
 * In a helper process: print the ready line, answer each JSON command line
 * on stdin (one at a time, in order) with one JSON line, and when the parent
 * closes stdin run `onClose` and exit.
 */
export function helperCommands(
  hello: Record<string, unknown>,
  handle: (command: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>,
  onClose?: () => Promise<void>,
): void {
  process.stdout.write(`${JSON.stringify(hello)}\n`);
  const rl = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let out: Record<string, unknown> | undefined;
      try {
        out = await handle(JSON.parse(line) as Record<string, unknown>);
      } catch (err) {
        out = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
      }
      process.stdout.write(`${JSON.stringify(out ?? {})}\n`);
    });
  });
  rl.on('close', () => {
    void chain
      .then(() => onClose?.())
      .catch(noop)
      .finally(() => process.exit(0));
  });
}

function noop() {}

/**
 * The commands every server process of a bench answers: `settle` (collect
 * garbage, pause) and `cpu` (its CPU µs so far). Undefined for any other.
 */
export async function commonServerOp(
  cmd: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  if (cmd.op === 'settle') {
    gc();
    await new Promise((r) => setTimeout(r, 100));
    return {};
  }
  if (cmd.op === 'cpu') {
    const c = process.cpuUsage();
    return { cpuUs: c.user + c.system };
  }
  return undefined;
}

/** One undici Pool per origin, made on first use, for load generators. */
export function poolsByOrigin(connections: number) {
  const pools = new Map<string, Pool>();
  return {
    get(origin: string): Pool {
      let pool = pools.get(origin);
      if (!pool) {
        pool = new Pool(origin, { connections });
        pools.set(origin, pool);
      }
      return pool;
    },
    close: () => Promise.all([...pools.values()].map((p) => p.close())),
  };
}

/** Every core of this machine, as taskset names them. */
export const ALL_CORES = `0-${os.cpus().length - 1}`;

/** A command, run on the given cores when `cpus` is set (taskset execs it: same pid). */
export const onCores = (cpus: string | undefined, cmd: string, argv: string[]): [string, string[]] =>
  cpus ? ['taskset', ['-c', cpus, cmd, ...argv]] : [cmd, argv];

/** Move a running process, all its threads, to the given cores. */
export function pin(pid: number | undefined, cpus: string) {
  if (!pid) return;
  const r = spawnSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -a -pc ${cpus} ${pid} failed`);
}
