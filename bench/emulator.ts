/**
 * Emulator speed on the wall clock over real loopback:
 *  - startup: startEmulator() until it listens (the first start in the process, then warm starts);
 *  - keepAlive throughput: requests/s the emulator serves at concurrency 16 for a few seconds.
 * Run: npx tsx bench/emulator.ts [--seconds 3] [--concurrency 16] [--json] [--smoke]
 * With --json it prints one JSON line shaped like the other bench modules' results.
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startEmulator } from '../src/emulator/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
  },
  strict: false,
});
const seconds = values.smoke ? 0.2 : Number(values.seconds);
const concurrency = Number(values.concurrency);
const STARTUP_BUDGET_MS = 200;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function startup() {
  const times: number[] = [];
  for (let i = 0; i < (values.smoke ? 2 : 11); i++) {
    const t = performance.now();
    const emu = await startEmulator();
    times.push(performance.now() - t);
    await emu.close();
  }
  const [first, ...warm] = times;
  return { firstMs: first ?? Number.NaN, warm };
}

async function keepAliveThroughput() {
  const emu = await startEmulator();
  const calls = Array.from({ length: concurrency }, () =>
    emu.createCall({ callbackUri: 'http://127.0.0.1:9/unused' }),
  );
  const pool = new Pool(emu.origin, { connections: concurrency });
  const headers = { authorization: 'Bearer bench-token' };
  let ok = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async (callId: string) => {
    const path = `/v1.0/communications/calls/${callId}/keepAlive`;
    while (performance.now() < end) {
      const res = await pool.request({ method: 'POST', path, headers });
      await res.body.dump();
      if (res.statusCode === 200) ok++;
      else failed++;
    }
  };
  const t = performance.now();
  await Promise.all(calls.map((c) => worker(c.id)));
  const elapsed = (performance.now() - t) / 1000;
  await pool.close();
  await emu.close();
  return { ok, failed, perSecond: Math.round(ok / elapsed) };
}

const s = await startup();
const k = await keepAliveThroughput();
const firstMet = s.firstMs < STARTUP_BUDGET_MS;
const result = {
  bench: 'emulator',
  params: { seconds, concurrency, clock: 'system', transport: 'loopback' },
  rows: [
    {
      case: 'startup (first in process)',
      unit: 'ms',
      value: s.firstMs,
      stat: 'median',
      samples: [s.firstMs],
      target: `< ${STARTUP_BUDGET_MS} ms`,
      met: firstMet,
    },
    { case: 'startup (warm)', unit: 'ms', value: median(s.warm), stat: 'median', samples: s.warm },
    {
      case: `keepAlive c=${concurrency}`,
      unit: 'req/s',
      value: k.perSecond,
      stat: 'median',
      samples: [k.perSecond],
    },
  ],
  notes: [`${k.ok} keepAlives answered 200, ${k.failed} other answers`],
};

if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  console.log(
    `emulator startup: first ${s.firstMs.toFixed(1)} ms (budget ${STARTUP_BUDGET_MS} ms), warm median ${median(s.warm).toFixed(1)} ms`,
  );
  console.log(
    `emulator keepAlive: ${k.perSecond} req/s at concurrency ${concurrency} over ${seconds} s (${k.ok} ok, ${k.failed} failed)`,
  );
}
if (!firstMet || k.failed > 0) process.exitCode = 1;
