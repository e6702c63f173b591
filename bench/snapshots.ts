/**
 * Snapshot persistence (issue 9): what saving every call's snapshot costs.
 *
 * 1. Writes per second: 64 concurrent writers save a realistic envelope (a
 *    call with one record child, as the runtime writes it) into the memory
 *    store, the Redis snapshot store (HSET) and the Redis cluster store (Lua:
 *    lease check + HSET + lease renewal).
 * 2. Added cost per state change: a runtime on a SimulatedClock whose Graph
 *    answers at once (no network), N calls for H simulated hours of
 *    keepAlives. Wall time with each store minus wall time with none, divided
 *    by the state changes; the clock waits for every write, so this is the
 *    write's full latency on the call's path, the worst case (on the wall
 *    clock writes run beside the call).
 *
 * Redis: GCM_REDIS_URL (default redis://127.0.0.1:6399, the one .ci/run
 * starts). Without it only the memory figures are reported.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createActor, fromPromise } from 'xstate';
import { SimulatedClock, systemClock } from '../dist/adapters/clock.js';
import type { HttpAdapter, HttpRequest, HttpResponse } from '../dist/adapters/http.js';
import { createMemoryRecordingStore } from '../dist/adapters/memory-store.js';
import { createMemorySnapshotStore, type SnapshotStore } from '../dist/adapters/snapshot-store.js';
import { callMachine, recordMachine } from '../dist/machines/index.js';
import { createRedisCluster, createRedisSnapshotStore, type RedisCluster } from '../dist/redis/index.js';
import { notificationCodec } from '../dist/runtime/cluster.js';
import { SNAPSHOT_FORMAT } from '../dist/runtime/persistence.js';
import { createCallRuntime } from '../dist/runtime.js';
import { type BenchResult, gc, log, parseArgs, type Row, report, row } from './lib.js';

const BENCH = 'snapshots';
const args = parseArgs();
const REDIS_URL = process.env.GCM_REDIS_URL ?? 'redis://127.0.0.1:6399';
const WRITERS = 64;
const WRITE_MS = args.smoke ? 200 : 1_000;
const CALLS = args.smoke ? 20 : 200;
const HOURS = args.smoke ? 1 : 4;
const KEY = randomBytes(32);
const LONG_LEASE = { leaseMs: 24 * 3600_000, renewMs: 12 * 3600_000 };

const guid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/** The JSON the runtime stores for a call that has one record running. */
function sampleEnvelope(): string {
  // Every Graph request hangs: the snapshot is taken while the record's POST is in flight.
  const never = fromPromise(() => new Promise<never>(() => {})) as never;
  const machine = callMachine.provide({
    actors: {
      keepAlive: never,
      recordMachine: recordMachine.provide({ actors: { startRecord: never } }),
    },
  });
  const at = Date.UTC(2026, 0, 1);
  const actor = createActor(machine, { input: { callId: guid(1), at } }).start();
  actor.send({
    type: 'RECORD',
    at,
    recordId: 'rec-1',
    clientContext: randomBytes(16).toString('hex'),
    storeKey: `${guid(1).replace(/-/g, '')}-rec-1`,
    options: { maxRecordDurationInSeconds: 30, maxSilenceTimeoutInSeconds: 5, playBeep: true },
  });
  const snapshot = actor.getPersistedSnapshot();
  actor.stop();
  return JSON.stringify({ format: SNAPSHOT_FORMAT, callId: guid(1), savedAt: at, snapshot });
}

async function writesPerSecond(store: SnapshotStore, json: string): Promise<number> {
  let n = 0;
  const end = performance.now() + WRITE_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const id = guid(1000 + w);
      while (performance.now() < end) {
        await store.save(id, json);
        n++;
      }
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

/** Graph that answers every request at once with 200 (keepAlive is all this workload sends). */
function instantGraph(): HttpAdapter {
  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      return { status: 200, headers: {}, requestId: undefined, clientRequestId: req.operation, attempts: 1 };
    },
    async close() {},
  };
}

type Variant = 'none' | 'memory' | 'redis' | 'cluster' | 'renewing';

async function workload(variant: Variant, redis: Redis | undefined, prefix: string) {
  const clock = new SimulatedClock();
  let cluster: RedisCluster | undefined;
  const opts: Record<string, unknown> = {};
  if (variant === 'memory') opts.snapshots = createMemorySnapshotStore();
  if (variant === 'redis' && redis) opts.snapshots = createRedisSnapshotStore({ redis, prefix });
  if ((variant === 'cluster' || variant === 'renewing') && redis) {
    // 'cluster': long leases, so this measures the writes; 'renewing': the default lease (20 s, renewed every 5 s).
    const lease = variant === 'cluster' ? LONG_LEASE : {};
    cluster = createRedisCluster({ redis, tokenKey: KEY, prefix, instanceId: `bench-${variant}`, ...lease });
    await cluster.ready();
    opts.cluster = cluster;
  }
  const runtime = createCallRuntime({
    clock,
    http: instantGraph(),
    store: createMemoryRecordingStore(),
    notificationAuth: false,
    ...opts,
  });
  let changes = 0;
  runtime.states$.subscribe(() => changes++);
  gc();
  const t = performance.now();
  for (let i = 0; i < CALLS; i++) runtime.track(guid(i));
  await clock.advance(HOURS * 3600_000);
  const ms = performance.now() - t;
  const writes = runtime.stats().snapshots?.writes ?? 0;
  for (let i = 0; i < CALLS; i++) await runtime.hangUp(guid(i)).catch(() => {});
  await runtime.stop();
  return { ms, changes, writes };
}

async function connect(): Promise<Redis | undefined> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    log(`no Redis at ${REDIS_URL} (${(err as Error).message}): memory figures only`);
    return undefined;
  }
}

async function dropKeys(redis: Redis, prefix: string) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

async function main() {
  const redis = await connect();
  const prefix = `gcm-bench:${randomBytes(4).toString('hex')}:`;
  const json = sampleEnvelope();
  const notes: string[] = [];
  const rows: Row[] = [];

  // 1. writes per second
  const stores: Array<[string, () => SnapshotStore, () => Promise<void>]> = [
    ['memory', () => createMemorySnapshotStore(), async () => {}],
  ];
  let benchCluster: RedisCluster | undefined;
  if (redis) {
    stores.push(['redis HSET', () => createRedisSnapshotStore({ redis, prefix }), async () => {}]);
    benchCluster = createRedisCluster({
      redis,
      tokenKey: KEY,
      prefix: `${prefix}w:`,
      instanceId: 'bench-writer',
    });
    benchCluster.attach({
      clock: systemClock,
      log: () => {},
      adopt: async () => false,
      deliver: (items) => items,
      drop: () => {},
      running: () => [],
      ...notificationCodec(KEY),
    });
    const c = benchCluster;
    stores.push(['redis cluster (Lua, lease)', () => c.snapshots, async () => {}]);
  }
  for (const [name, make] of stores) {
    const samples: number[] = [];
    for (let r = 0; r < args.runs; r++) {
      log(`writes/s ${name}: run ${r + 1}/${args.runs}`);
      samples.push(await writesPerSecond(make(), json));
    }
    rows.push(row(`writes/s ${name}`, 'writes/s', samples.map(Math.round)));
  }
  await benchCluster?.stop();

  // 2. added cost per state change
  const variants: Variant[] = redis ? ['none', 'memory', 'redis', 'cluster', 'renewing'] : ['none', 'memory'];
  const per: Record<Variant, number[]> = { none: [], memory: [], redis: [], cluster: [], renewing: [] };
  const rounds = (HOURS * 3600_000) / 5_000;
  const perRound: number[] = [];
  const coalesce: number[] = [];
  let changesSeen = 0;
  for (let r = 0; r < args.runs; r++) {
    // Alternate the order between runs so warm-up favours no one.
    const order = r % 2 ? [...variants].reverse() : variants;
    const ms: Partial<Record<Variant, number>> = {};
    let changes = 0;
    for (const v of order) {
      log(`state changes ${v}: run ${r + 1}/${args.runs}`);
      const res = await workload(v, redis, `${prefix}${v}:${r}:`);
      ms[v] = res.ms;
      changes = res.changes;
      if (v === 'memory') coalesce.push(res.writes / res.changes);
    }
    changesSeen = changes;
    for (const v of variants) per[v].push((((ms[v] ?? 0) - (ms.none ?? 0)) * 1000) / changes);
    if (ms.renewing !== undefined) perRound.push(((ms.renewing - (ms.cluster ?? 0)) * 1000) / rounds);
    per.none.push(((ms.none ?? 0) * 1000) / changes);
  }
  rows.push(row('per state change, no store (baseline)', 'µs', per.none.map(round1)));
  for (const v of ['memory', 'redis', 'cluster'] as const)
    if (variants.includes(v))
      rows.push(
        row(`added per state change, ${v === 'cluster' ? 'redis cluster' : v}`, 'µs', per[v].map(round1)),
      );
  if (perRound.length)
    rows.push(row(`lease renewal round, ${CALLS} calls owned (every 5 s)`, 'µs', perRound.map(round1)));
  rows.push(
    row(
      'snapshot writes per state change (memory)',
      'ratio',
      coalesce.map((x) => round1(x * 100) / 100),
    ),
  );

  notes.push(
    `envelope ${json.length} bytes (a call with one record child); ${WRITERS} concurrent writers for ${WRITE_MS} ms`,
    `state changes: ${CALLS} calls x ${HOURS} h of keepAlives = ${changesSeen} changes per run; Graph answers at once; the SimulatedClock waits for each write, so Redis figures are round trips on the call's path`,
  );
  if (!redis) notes.push(`Redis not reachable at ${REDIS_URL}: no Redis figures`);
  if (redis) {
    await dropKeys(redis, prefix);
    redis.disconnect();
  }
  const result: BenchResult = {
    bench: BENCH,
    params: {
      writers: WRITERS,
      writeMs: WRITE_MS,
      calls: CALLS,
      hours: HOURS,
      envelopeBytes: json.length,
      redis: !!redis,
    },
    rows,
    notes,
  };
  report(args, result);
}

const round1 = (x: number) => Math.round(x * 10) / 10;

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
