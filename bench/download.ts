/**
 * Target 5: recording downloads. A loopback server (its own process) streams
 * N concurrent "5-minute clips" (16 kHz 16-bit mono WAV, 9.6 MB of samples
 * each), written from one shared chunk with backpressure, never one buffer
 * per request. Ours (the built package, dist/): the runtime's download path,
 * `graph.downloadRecording(url, token)` into `createFileRecordingStore()`;
 * baseline: `pool.request({ path })` on a Pool + `pipeline` into
 * `fs.createWriteStream`, at the same concurrency (never more downloads in
 * flight than ours may have). Throughput (MB/s), client CPU per MB and peak
 * RSS growth of the downloading process (sampled every 50 ms), for 1 clip and
 * for 16 at once by default (`--clips 1,16,200`).
 *
 * Every (run, contender) gets a fresh client process, so each RSS figure
 * starts from the same clean heap; the order alternates between runs. All
 * files live under one temp directory that is removed at the end.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { SAMPLE_RATE, WAV_HEADER_BYTES, wavHeader } from '../dist/emulator/wav.js';
import {
  createFileRecordingStore,
  createGraphClient,
  createUndiciHttp,
  staticToken,
  systemClock,
} from '../dist/index.js';
import { createDownloadSlots, DEFAULT_MAX_DOWNLOADS, downloadToStore } from '../dist/runtime/download.js';
import {
  type BenchResult,
  benchFile,
  gc,
  helperCommands,
  helperReady,
  log,
  median,
  pairedRatio,
  pairedRatios,
  parseArgs,
  report,
  row,
  sampleRss,
  startHelper,
} from './lib.js';

const BENCH = 'download';
const FILE = benchFile('download.ts');
/** 5 minutes of 16-bit mono samples. */
const CLIP_DATA_BYTES = 5 * 60 * SAMPLE_RATE * 2;
const TOKEN = 'recording-access-token';
const MB = 1e6;
/** Every measure moves at least this many clips (in rounds of `clips` at once). */
const ROUND_CLIPS = 16;
/**
 * raw: undici Pool + fs; adapter: our HTTP adapter and Graph client into a
 * plain fs stream (tells the adapter's cost from the store's); ours: the
 * adapter into the file store, as the runtime does it.
 */
const CONTENDERS = ['raw', 'adapter', 'ours'] as const;
type Name = (typeof CONTENDERS)[number];

const args = parseArgs();
const role = args.extra.get('role');

if (role === 'server') serve(Number(args.extra.get('bytes')));
else if (role === 'client') client(args.extra.get('client') as Name);
else await main();

/** The server process: GET /recordings/{n} streams one clip of `dataBytes` samples. */
function serve(dataBytes: number) {
  // One 64 KB chunk of a 440 Hz tone, reused for every write of every clip.
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length / 2; i++)
    chunk.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE)), i * 2);
  const header = wavHeader(dataBytes);
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    if (req.method !== 'GET' || !/^\/recordings\/[\w-]+$/.test(req.url ?? '')) {
      res.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-length': '0' }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'audio/wav',
      'content-length': String(WAV_HEADER_BYTES + dataBytes),
    });
    res.write(header);
    let left = dataBytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (left === 0) {
          res.end(n === chunk.length ? chunk : chunk.subarray(0, n));
          return;
        }
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.on('close', () => {
      left = 0;
    });
    pump();
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    helperReady({ port: typeof addr === 'object' && addr ? addr.port : 0 }, () => server.close());
  });
}

interface Measure {
  ms: number;
  bytes: number;
  rssGrowth: number;
  /** Client process CPU (user + system) during the downloads, µs. */
  cpuUs: number;
}

/**
 * A client process: one download round of one contender, into `dir`. The
 * figures cover the downloads only; clean-up comes after.
 */
function client(name: Name) {
  helperCommands({ ready: name }, async (cmd) => {
    const origin = String(cmd.origin);
    const clips = Number(cmd.clips);
    const dir = String(cmd.dir);
    const expected = Number(cmd.clipBytes);
    const connections = Number(cmd.connections);
    const maxDownloads = Number(cmd.maxDownloads);
    const warmUp = cmd.warmUp === true;
    const urls = Array.from({ length: clips }, (_, i) => `${origin}/recordings/clip-${i}`);
    const measure = async (download: (url: string, i: number) => Promise<number>): Promise<Measure> => {
      // One download of the same kind first, so module loading, JIT code and pool set-up
      // (one-time costs, paid by every contender alike) stay out of the growth figure.
      if (warmUp) await download(`${origin}/recordings/warm-up`, 1_000_000);
      gc();
      await delay(100);
      const rss = sampleRss(50);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      // Rounds of `clips` downloads, one after another, until 16 clips' bytes have moved: one clip
      // alone is a ~25 ms sample, mostly scheduling noise on this VM.
      const sizes: number[] = [];
      for (let round = 0; round < Math.ceil(ROUND_CLIPS / clips); round++)
        sizes.push(...(await Promise.all(urls.map((url, i) => download(url, round * clips + i)))));
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const rssGrowth = rss.stop();
      const bad = sizes.findIndex((n) => n !== expected);
      if (bad >= 0) throw new Error(`${name}: clip ${bad} has ${sizes[bad]} bytes, expected ${expected}`);
      return { ms, bytes: sizes.reduce((a, b) => a + b, 0), rssGrowth, cpuUs: cpu.user + cpu.system };
    };

    if (name === 'adapter' || name === 'ours') {
      const ourHttp = createUndiciHttp({ token: staticToken('app-token'), connections });
      const host = new URL(origin).host;
      const graph = createGraphClient({ http: ourHttp, insecureRecordingHosts: [host] });
      if (name === 'adapter') {
        await mkdir(dir, { recursive: true });
        const adapterSlots = createDownloadSlots(maxDownloads);
        try {
          const m = await measure((url, i) =>
            adapterSlots.run(async () => {
              const dl = await graph.downloadRecording(url, TOKEN);
              const out = createWriteStream(path.join(dir, `clip-${i}.wav`), { flags: 'wx', mode: 0o600 });
              await pipeline(dl.body, out);
              return out.bytesWritten;
            }),
          );
          return { ...m };
        } finally {
          await rm(dir, { recursive: true, force: true });
          await ourHttp.close();
        }
      }
      const store = createFileRecordingStore({ dir });
      // The runtime's own download path: its cap on downloads in flight, then into the store.
      const slots = createDownloadSlots(maxDownloads);
      try {
        const m = await measure(async (url, i) => {
          const clip = await downloadToStore(
            { clock: systemClock, graph, store, slots },
            { recordingLocation: url, accessToken: TOKEN, storeKey: `clip-${i}` },
          );
          return clip.bytes;
        });
        for (const key of await store.list()) await store.delete(key);
        return { ...m };
      } finally {
        await store.close();
        await ourHttp.close();
      }
    }

    const pool = new Pool(origin, { connections });
    // The same cap on downloads in flight as ours: the fastest correct raw call at the same concurrency.
    const slots = createDownloadSlots(maxDownloads);
    await mkdir(dir, { recursive: true });
    try {
      const m = await measure((url, i) =>
        slots.run(async () => {
          const res = await pool.request({
            path: new URL(url).pathname,
            method: 'GET',
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          if (res.statusCode !== 200) {
            await res.body.dump();
            throw new Error(`raw: HTTP ${res.statusCode}`);
          }
          const file = path.join(dir, `clip-${i}.wav`);
          const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
          await pipeline(res.body, out);
          return out.bytesWritten;
        }),
      );
      return { ...m };
    } finally {
      await rm(dir, { recursive: true, force: true });
      await pool.close();
    }
  });
}

async function main() {
  const clipCounts = args.smoke
    ? [1, 4]
    : String(args.extra.get('clips') ?? '1,16')
        .split(',')
        .map(Number);
  const dataBytes = args.smoke ? 1_000_000 - WAV_HEADER_BYTES : CLIP_DATA_BYTES;
  const clipBytes = WAV_HEADER_BYTES + dataBytes;
  // Ours runs with the runtime's cap on downloads in flight (its default unless --max-downloads); raw too.
  const maxDownloads = Number(args.extra.get('max-downloads') ?? DEFAULT_MAX_DOWNLOADS);
  // --cold: measure from a process that has not downloaded anything yet.
  const warmUp = !args.extra.has('cold');
  const root = await mkdtemp(path.join(tmpdir(), 'gcm-bench-download-'));
  const server = await startHelper(FILE, ['--role', 'server', '--bytes', String(dataBytes)]);
  const origin = `http://127.0.0.1:${server.hello.port}`;
  const result: BenchResult = {
    bench: BENCH,
    params: { clipCounts, clipBytes, maxDownloads, warmUp, runs: args.runs },
    rows: [],
    notes: [],
  };
  let leftovers = 0;
  try {
    for (const clips of clipCounts) {
      // Sockets per origin for every contender: one per download in flight (--connections to change).
      const connections = Number(args.extra.get('connections') ?? Math.min(clips, maxDownloads));
      const mbps = new Map<Name, number[]>(CONTENDERS.map((n) => [n, []]));
      const cpuPerMb = new Map<Name, number[]>(CONTENDERS.map((n) => [n, []]));
      const rss = new Map<Name, number[]>(CONTENDERS.map((n) => [n, []]));
      for (let run = 0; run < args.runs; run++) {
        const order = run % 2 ? [...CONTENDERS].reverse() : [...CONTENDERS];
        for (const name of order) {
          const dir = path.join(root, `${clips}-${name}-${run}`);
          const h = await startHelper(FILE, ['--role', 'client', '--client', name], ['--expose-gc']);
          try {
            const m = await h.ask<Measure>({
              origin,
              clips,
              dir,
              clipBytes,
              connections,
              maxDownloads,
              warmUp,
            });
            mbps.get(name)!.push(m.bytes / MB / (m.ms / 1000));
            cpuPerMb.get(name)!.push(m.cpuUs / 1000 / (m.bytes / MB));
            rss.get(name)!.push(m.rssGrowth / MB);
            log(
              `${clips} clips run ${run + 1}/${args.runs} ${name}: ${Math.round(m.bytes / MB / (m.ms / 1000))} MB/s, ${(m.cpuUs / 1000 / (m.bytes / MB)).toFixed(2)} ms CPU/MB, peak RSS +${(m.rssGrowth / MB).toFixed(1)} MB`,
            );
          } finally {
            await h.stop();
          }
        }
      }
      const raw = mbps.get('raw')!;
      const ours = mbps.get('ours')!;
      const ratios = pairedRatios(ours, raw);
      const ratio = median(ratios);
      const cpuRatios = pairedRatios(cpuPerMb.get('ours')!, cpuPerMb.get('raw')!);
      const cpuRatio = median(cpuRatios);
      const worstRss = Math.max(...rss.get('ours')!);
      result.rows.push(
        row(`${clips} clips raw undici + fs`, 'MB/s', raw),
        row(`${clips} clips our adapter + fs`, 'MB/s', mbps.get('adapter')!, {
          ratio: pairedRatio(mbps.get('adapter')!, raw),
          vs: 'raw',
        }),
        row(`${clips} clips ours -> file store`, 'MB/s', ours, {
          ratio,
          ratioMin: Math.min(...ratios),
          vs: 'raw',
          target: '>= 0.95 x raw',
          met: ratio >= 0.95,
        }),
        row(`${clips} clips ours CPU per MB`, 'ms', cpuPerMb.get('ours')!, {
          ratio: cpuRatio,
          ratioMin: Math.min(...cpuRatios),
          vs: 'raw',
          target: '<= 1.1 x raw',
          met: cpuRatio <= 1.1,
        }),
        row(`${clips} clips ours peak RSS growth`, 'MB', rss.get('ours')!, {
          stat: 'max',
          target: '< 64 MB',
          met: worstRss < 64,
        }),
      );
      result.notes.push(
        `${clips} clips: raw peak RSS growth ${Math.max(...rss.get('raw')!).toFixed(1)} MB, adapter ${Math.max(...rss.get('adapter')!).toFixed(1)} MB (max of runs); CPU ms per MB (median) raw ${median(cpuPerMb.get('raw')!).toFixed(2)}, adapter ${median(cpuPerMb.get('adapter')!).toFixed(2)}, ours ${median(cpuPerMb.get('ours')!).toFixed(2)}.`,
      );
    }
  } finally {
    await server.stop();
    leftovers += (await readdir(root, { recursive: true }).catch(() => [])).filter((f) =>
      /\.(clip|wav)$/.test(String(f)),
    ).length;
    await rm(root, { recursive: true, force: true });
  }
  result.notes.unshift(
    `download: clips of ${(clipBytes / MB).toFixed(2)} MB (16 kHz 16-bit mono WAV), all requested at once, in rounds until ${ROUND_CLIPS} clips have moved (1 clip: ${ROUND_CLIPS} downloads one after another, each measure ~${Math.round((ROUND_CLIPS * clipBytes) / MB)} MB); every contender at most ${maxDownloads} in flight (the runtime's cap; raw and adapter held to it too), one socket per download in flight; ours runs the built package (dist/); server and each (run, contender) in their own process, order alternating; RSS sampled every 50 ms from just before the downloads${warmUp ? ', after one warm-up download per process (one-time loading and JIT excluded; --cold to include them)' : ', in a cold process (--cold)'}. Ratios: median of the per-run ratios; min: the worst run. Files left after clean-up: ${leftovers}.`,
  );
  report(args, result);
}
