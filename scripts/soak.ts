/**
 * `npm run soak`: the full-size soak of issue 8. 1,000 calls x 24 simulated
 * hours against the emulator, faults on 10% of requests, 200 recordings, the
 * file store. Prints the figures and exits non-zero when a promise is broken.
 *
 *   npm run soak -- [--calls N] [--hours H] [--recordings R] [--fault-rate F] [--seed S] [--memory] [--scan]
 *
 * Heap figures need a forced GC: without `--expose-gc` the script starts
 * itself again with it.
 */
import { spawnSync } from 'node:child_process';
import { formatFigures, runSoak } from '../test/soak/soak.js';
import { callTrafficFailures } from '../test/soak/soak-calls.js';

/** Heap after the run may be at most this much above before. */
const HEAP_LIMIT = 0.1;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new TypeError(`--${name} needs a number`);
  return v;
}

const options = {
  calls: arg('calls', 1000),
  hours: arg('hours', 24),
  recordings: arg('recordings', 200),
  faultRate: arg('fault-rate', 0.1),
  seed: arg('seed', 8),
  store: process.argv.includes('--memory') ? ('memory' as const) : ('file' as const),
  scanSecrets: process.argv.includes('--scan'),
  gc,
  progress: (line: string) => console.log(line),
  progressEveryHours: Math.max(1, Math.round(arg('hours', 24) / 12)),
};

console.log(
  `soak: ${options.calls} calls x ${options.hours} simulated hours, ${options.recordings} recordings, ` +
    `faults on ${(options.faultRate * 100).toFixed(0)}% of requests, seed ${options.seed}, ${options.store} store`,
);
const f = await runSoak(options);
console.log(`\n${formatFigures(f, HEAP_LIMIT)}`);

const failures = [
  f.callsWithoutOutput !== 0 && 'calls without an end',
  f.expiredWhileBotBelievedAlive !== 0 && 'calls expired while the bot believed them alive',
  f.keepAliveGapsOver45 !== 0 && 'keepAlive gaps of 45 min',
  f.downloadedAndDeleted !== f.completedRecordings && 'recordings not downloaded and deleted',
  f.emulatorRecordingsDownloaded !== f.completedRecordings && 'emulator recordings never downloaded',
  f.clipSizeMismatches !== 0 && 'clip size mismatches',
  f.filesLeft !== 0 && 'files left in the store',
  f.tokensHeldAtEnd !== 0 && 'recording tokens held',
  f.rejectedNotifications !== 0 && 'notifications rejected',
  f.unhandledRejections !== 0 && 'unhandled rejections',
  f.pendingTimersAfterClose !== 0 && 'timers left on the clock',
  f.heapGrowth > HEAP_LIMIT && `heap grew more than ${HEAP_LIMIT * 100}%`,
  f.secrets && f.secrets.leaks.length > 0 && `secrets leaked: ${f.secrets.leaks.join('; ')}`,
  ...callTrafficFailures(f.setup),
].filter(Boolean);
if (failures.length) {
  console.log(`\nsoak FAILED: ${failures.join(', ')}`);
  process.exitCode = 1;
} else console.log('\nsoak passed');
