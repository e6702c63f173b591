/**
 * Redis away for two minutes under two instances (a TCP proxy cuts their
 * connections; the shared test Redis stays up). While it is away each
 * instance keeps its own calls alive and finishes their recordings; a
 * completion that reached the other instance is held there and passed on
 * once Redis is back. When it is back, no call changes hands: every owner
 * renews before anyone claims.
 */
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { normalizeId } from '../../src/graph/ids.js';
import { createRedisCluster, type RedisCluster } from '../../src/redis/index.js';
import type { Clip } from '../../src/runtime/clip.js';
import { createWorld, type Instance, MIN, SEC, type World } from '../persistence/world.js';
import { type RedisProxy, startRedisProxy } from './proxy.js';
import { connectRedis, dropKeys, testPrefix } from './redis.js';

const KEY = Buffer.alloc(32, 5).toString('base64');
const LEASE = { leaseMs: 30 * SEC, renewMs: 10 * SEC };

let w: World | undefined;
let proxy: RedisProxy | undefined;
const clients: Redis[] = [];
const prefix = testPrefix('outage');
afterEach(async () => {
  await w?.close();
  await proxy?.close();
  const admin = await connectRedis();
  await dropKeys(admin, prefix);
  admin.disconnect();
  for (const c of clients) c.disconnect();
});

interface Node extends Instance {
  cluster: RedisCluster;
  redis: Redis;
}

/** A client as production would configure one: reconnects forever, fails commands while away. */
async function proxied(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  redis.on('error', () => {});
  clients.push(redis);
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  return redis;
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(cond()).toBe(true);
}

it('while Redis is away calls keep their keepAlives and recordings; when it is back none changes hands', async () => {
  w = await createWorld();
  const world = w;
  proxy = await startRedisProxy();
  const processed = new Map<string, string[]>();
  const handler = (by: string) => (clip: Clip) => {
    const key = normalizeId(clip.callId);
    processed.set(key, [...(processed.get(key) ?? []), by]);
    return clip.bytes;
  };
  const nodes: Node[] = [];
  for (const name of ['A', 'B']) {
    const redis = await proxied(proxy.url);
    const cluster = createRedisCluster({ redis, tokenKey: KEY, instanceId: name, prefix, ...LEASE });
    await cluster.ready();
    // The completion of a record may wait out the outage (and one lease) on the other instance.
    const inst = world.start(name, { cluster, recordPolicy: { completionMarginMs: 5 * MIN } });
    nodes.push(Object.assign(inst, { cluster, redis }));
  }
  const [a, b] = nodes as [Node, Node];
  const t0 = world.clock.now();
  const ids = [0, 1, 2, 3].map(() => world.newCall());
  // The load balancer alternates A, B, A, B: the completions of calls 1 and 2 reach the other instance.
  const ownerOf = (i: number) => (i < 2 ? a : b);
  for (const [i, id] of ids.entries()) ownerOf(i).runtime.track(id);
  await world.clock.advance(14 * MIN);
  for (const [i, id] of ids.entries())
    void ownerOf(i).runtime.record(
      id,
      { maxRecordDurationInSeconds: 10, maxSilenceTimeoutInSeconds: 2 },
      handler(ownerOf(i).name),
    );
  await world.clock.advance(SEC); // the record POSTs are answered; completions come in a few seconds

  proxy.cut();
  await world.clock.advance(2 * MIN); // the keepAlives due at 15 min fall in here
  proxy.restore();
  await until(() => nodes.every((n) => n.redis.status === 'ready'));
  await world.clock.advance(2 * MIN);

  for (const [i, id] of ids.entries()) {
    // Kept alive through the outage by the instance that owned it before.
    expect(
      world.keepAlives(id).map(([at, s]) => [(at - t0) / MIN, s]),
      id,
    ).toEqual([[15, 200]]);
    expect(
      world.attempts.filter((x) => x.callId === normalizeId(id)).map((x) => x.instance),
      id,
    ).toEqual([ownerOf(i).name]);
    // Its recording processed once, by its owner, the held completion included.
    expect(processed.get(normalizeId(id)), id).toEqual([ownerOf(i).name]);
  }
  for (const n of nodes) {
    const s = n.cluster.stats;
    expect([s.claimed, s.claimedOnNotification, s.conflicts, s.lost], n.name).toEqual([0, 0, 0, 0]);
    expect(s.heldBack, n.name).toBeGreaterThanOrEqual(1);
    expect(n.runtime.stats().tracked, n.name).toBe(2);
  }
  expect(a.cluster.stats.deferred + b.cluster.stats.deferred).toBeGreaterThan(0);
  expect(await a.redis.keys(`${prefix}pending:*`)).toEqual([]);
  expect(await a.redis.hlen(`${prefix}snapshots`)).toBe(4);
});
