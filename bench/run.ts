/**
 * `npm run bench [-- --only a,b] [--runs N] [--smoke] [--out file.md]`
 *
 * Runs each bench module in its own child process
 * (`node --expose-gc --import tsx bench/<name>.ts --json`), so heap figures
 * start clean, collects the one JSON line each prints (a BenchResult, see
 * bench/lib.ts), and prints one table with the machine it ran on. A full run
 * (no --only, no --smoke) also writes the table to bench/results/latest.md and
 * the rows with a target to README.md between its bench-summary markers
 * (`--readme no` leaves the README alone).
 *
 * Adding a bench: write bench/<name>.ts (parseArgs + report from ./lib.js)
 * and add its name to BENCHES.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type BenchResult,
  benchFile,
  formatMachine,
  formatTable,
  formatTargets,
  machine,
  parseArgs,
  repoRoot,
} from './lib.js';

const BENCHES = [
  'keepalive-throughput', // target 1: keepAlive req/s vs raw undici, fetch, msgraph client
  'calls-per-process', // target 2: heap and time per call at 1k, 10k, 100k calls
  'sim-time', // target 3: 24 simulated hours of a call over loopback, wall ms
  'notification-ingest', // target 4: notifications/s through nodeHandler, JWT on vs off
  'download', // target 5: recording downloads into the file store vs raw undici + fs
  'emulator', // emulator startup and keepAlive req/s it serves
  'snapshots', // persistence: snapshot writes/s and added cost per state change, Redis vs memory
  'live-view', // runtime CPU with the live view and one Chromium vs without, 1,000 calls
  // the same figure from a CPU profile inside the runtime (its A/B windows scatter too much to resolve 5 %)
  'live-view-ab --attribute --pin pinned --pairs 5',
];

const args = parseArgs();
const only = args.extra.get('only');
const byName = (n: string) => BENCHES.find((b) => b.split(' ')[0] === n) ?? n;
const selected =
  typeof only === 'string' ? only.split(',').map((s) => byName(s.trim().replace(/\.ts$/, ''))) : BENCHES;
const known = BENCHES.map((b) => b.split(' ')[0]);
const unknown = selected.filter((n) => !BENCHES.includes(n) && !known.includes(n));
if (unknown.length) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (known: ${BENCHES.join(', ')})\n`);
  process.exit(2);
}
const timeoutSec = Number(args.extra.get('timeout')) || (args.smoke ? 180 : 1800);

interface Outcome {
  name: string;
  result?: BenchResult;
  error?: string;
  seconds: number;
}

function runBench(entry: string): Promise<Outcome> {
  const started = Date.now();
  const [name = entry, ...extra] = entry.split(' ');
  const childArgs = ['--expose-gc', '--import', 'tsx', benchFile(`${name}.ts`), ...extra, '--json'];
  if (args.smoke) childArgs.push('--smoke');
  else childArgs.push('--runs', String(args.runs));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, childArgs, {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Its helper processes exit when their stdin (a pipe from it) closes.
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    }, timeoutSec * 1000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ name, error: err.message, seconds: (Date.now() - started) / 1000 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      if (timedOut) return resolve({ name, error: `timed out after ${timeoutSec} s`, seconds });
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return resolve({ name, error: `exited with ${signal ?? `code ${code}`}`, seconds });
      try {
        resolve({ name, result: JSON.parse(last) as BenchResult, seconds });
      } catch {
        resolve({ name, error: 'printed no JSON result', seconds });
      }
    });
  });
}

const loadBefore = os.loadavg()[0] ?? 0;
const outcomes: Outcome[] = [];
for (const name of selected) {
  process.stderr.write(`bench ${name}${args.smoke ? ' (smoke)' : ` (${args.runs} runs)`}\n`);
  const o = await runBench(name);
  process.stderr.write(
    `bench ${name}: ${o.error ? `FAILED, ${o.error}` : 'done'} in ${o.seconds.toFixed(1)} s\n`,
  );
  outcomes.push(o);
}

const m = machine();
const results: BenchResult[] = outcomes.map(
  (o) =>
    o.result ?? {
      bench: o.name,
      params: {},
      rows: [{ case: `FAILED: ${o.error}`, unit: '', value: Number.NaN, stat: 'median', samples: [] }],
      notes: [],
    },
);
// Smoke sizes measure nothing: no verdicts.
if (args.smoke) for (const r of results) for (const x of r.rows) delete x.met;
const notes = results.flatMap((r) => r.notes);
const mode = args.smoke ? 'smoke mode, 1 run, tiny sizes' : `medians of ${args.runs} runs`;
const text = [
  `Machine: ${formatMachine(m)}`,
  `Mode: ${mode}; ratios are medians of per-run ratios measured side by side.`,
  `Load average (1 min) before / after: ${loadBefore.toFixed(2)} / ${(os.loadavg()[0] ?? 0).toFixed(2)} (other work on the machine skews absolute figures more than ratios).`,
  '',
  formatTable(results),
  '',
  ...notes.map((n) => `- ${n}`),
].join('\n');
process.stdout.write(`\n${text}\n`);

const out = args.extra.get('out');
const full = !args.smoke && typeof only !== 'string';
const target = typeof out === 'string' ? out : full ? 'bench/results/latest.md' : '';
if (target) {
  const file = path.resolve(repoRoot(), target);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `# Benchmark results\n\nProduced by \`npm run bench\`.\n\n${text}\n`);
  process.stderr.write(`wrote ${path.relative(repoRoot(), file)}\n`);
}
// A full run also rewrites the README's summary (the rows with a target), between its markers,
// so the README never shows figures from a different run than bench/results/latest.md.
if (full && args.extra.get('readme') !== 'no') {
  const readme = path.resolve(repoRoot(), 'README.md');
  const start = '<!-- bench-summary:start -->';
  const end = '<!-- bench-summary:end -->';
  const before = await readFile(readme, 'utf8');
  const a = before.indexOf(start);
  const b = before.indexOf(end);
  if (a >= 0 && b > a) {
    const load = `load average ${loadBefore.toFixed(1)} before, ${(os.loadavg()[0] ?? 0).toFixed(1)} after`;
    const summary = [
      start,
      `From one \`npm run bench\` run (${mode}; ${load}). Machine: ${formatMachine(m)}.`,
      '',
      formatTargets(results),
      '',
      end,
    ].join('\n');
    await writeFile(readme, before.slice(0, a) + summary + before.slice(b + end.length));
    process.stderr.write('wrote the README summary\n');
  } else process.stderr.write(`README.md has no ${start} ... ${end} markers: summary not written\n`);
}
process.exitCode = outcomes.some((o) => o.error) ? 1 : 0;
