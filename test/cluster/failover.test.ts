/**
 * Failover drill: three instances share 300 calls through a real
 * redis-server, one emulator and one SimulatedClock; the load balancer spreads
 * notifications over the live instances. Every call records a clip; two
 * seconds later, with all 300 recordings running, instance A is killed
 * (nothing released, connections gone). Its calls move to B and C when their
 * leases lapse; the completions Graph sent meanwhile wait in Redis and are
 * handled by the new owners.
 *
 * Checked on the emulator's own log: every call stays alive (no gap between
 * successful keepAlives reaches 45 minutes), no call gets keepAlives from two
 * instances within one interval, every recording is processed exactly once
 * and nothing is left in the store or in Redis.
 */
import type { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { normalizeId } from '../../src/graph/ids.js';
import { createRedisCluster, type RedisCluster } from '../../src/redis/index.js';
import type { Clip } from '../../src/runtime/clip.js';
import { createWorld, type Instance, MIN, SEC, type World } from '../persistence/world.js';
import { connectRedis, dropKeys, testPrefix } from './redis.js';

const CALLS = 300;
const KEY = Buffer.alloc(32, 3).toString('base64');
const LEASE = { leaseMs: 30 * SEC, renewMs: 10 * SEC, claimBatch: 50 };
const INTERVAL = 15 * MIN;

let w: World | undefined;
const clients: Redis[] = [];
const prefix = testPrefix('failover');
afterAll(async () => {
  await w?.close();
  const admin = clients.find((c) => c.status === 'ready');
  if (admin) await dropKeys(admin, prefix);
  for (const c of clients) c.disconnect();
});

interface Node extends Instance {
  cluster: RedisCluster;
  redis: Redis;
}

it('300 calls on three instances survive one being killed mid-run', { timeout: 60_000 }, async () => {
  w = await createWorld();
  const world = w;
  const processed = new Map<string, string[]>();
  const handler = (by: string) => (clip: Clip) => {
    const list = processed.get(normalizeId(clip.callId)) ?? [];
    list.push(by);
    processed.set(normalizeId(clip.callId), list);
    return clip.bytes;
  };

  const nodes: Node[] = [];
  for (const name of ['A', 'B', 'C']) {
    const redis = await connectRedis();
    clients.push(redis);
    const cluster = createRedisCluster({ redis, tokenKey: KEY, instanceId: name, prefix, ...LEASE });
    await cluster.ready();
    const inst = world.start(name, {
      cluster,
      onResumedClip: handler(`${name} (resumed)`),
      // Room for a takeover (lease + one renewal round) before a running record gives up on its completion.
      recordPolicy: { completionMarginMs: 2 * MIN },
    });
    nodes.push(Object.assign(inst, { cluster, redis }));
  }
  const [a, b, c] = nodes as [Node, Node, Node];

  const t0 = world.clock.now();
  const ids: string[] = [];
  for (let i = 0; i < CALLS; i++) {
    const id = world.newCall();
    ids.push(id);
    (nodes[i % 3] as Node).runtime.track(id);
  }
  await world.clock.advance(19 * MIN + 58 * SEC);
  for (const [i, id] of ids.entries()) {
    const n = nodes[i % 3] as Node;
    void n.runtime.record(
      id,
      { maxRecordDurationInSeconds: 10, maxSilenceTimeoutInSeconds: 2 },
      handler(n.name),
    );
  }
  await world.clock.advance(2 * SEC);

  // Kill A: no lease released, no renewals, its connections gone, no more notifications for it.
  world.detach(a);
  await a.cluster.abandon();
  a.redis.disconnect();
  await a.runtime.stop();

  await world.clock.advance(61 * MIN - (world.clock.now() - t0));

  // Every call alive, no gap between successful keepAlives (or from the start) reaching 45 minutes.
  for (const id of ids) {
    expect(world.emulator.control.call(id)?.state, id).toBe('established');
    const ok = world.keepAlives(id).filter(([, s]) => s === 200);
    const times = [t0, ...ok.map(([at]) => at)];
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(Math.max(...gaps), id).toBeLessThan(45 * MIN);
    expect(ok.length, id).toBe(4); // 15, 30, 45 and 60 minutes
  }

  // No call handled twice at once: keepAlives of one call from two instances are at least one interval apart.
  const byCall = new Map<string, typeof world.attempts>();
  for (const x of world.attempts) byCall.set(x.callId, [...(byCall.get(x.callId) ?? []), x]);
  for (const id of ids) {
    const list = (byCall.get(normalizeId(id)) ?? []).sort((p, q) => p.at - q.at);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const cur = list[i];
      if (prev && cur && prev.instance !== cur.instance)
        expect(cur.at - prev.at, id).toBeGreaterThanOrEqual(INTERVAL);
    }
  }

  // A's calls moved to B and C; each call has exactly one owner.
  const ownedB = new Set(b.cluster.owned());
  const ownedC = new Set(c.cluster.owned());
  expect([...ownedB].filter((id) => ownedC.has(id))).toEqual([]);
  expect(ownedB.size + ownedC.size).toBe(CALLS);
  expect(b.cluster.stats.claimed + c.cluster.stats.claimed).toBe(CALLS / 3);
  expect(b.cluster.stats.claimed).toBeGreaterThan(0);
  expect(c.cluster.stats.claimed).toBeGreaterThan(0);
  expect(b.runtime.stats().tracked + c.runtime.stats().tracked).toBe(CALLS);

  // Every recording processed exactly once (A's by its new owners), nothing left behind.
  const recordings = world.emulator.control.calls().flatMap((call) => call.recordings);
  expect(recordings).toHaveLength(CALLS);
  expect(recordings.every((r) => r.downloads >= 1)).toBe(true);
  for (const id of ids) expect(processed.get(normalizeId(id))?.length, id).toBe(1);
  const resumed = [...processed.values()].flat().filter((by) => by.includes('resumed'));
  expect(resumed).toHaveLength(CALLS / 3);
  expect(await b.runtime.store.list()).toEqual([]);
  expect(b.cluster.stats.forwarded + c.cluster.stats.forwarded).toBeGreaterThan(0);
  expect(b.cluster.stats.ackTimeouts + c.cluster.stats.ackTimeouts).toBe(0);
  const pending = await b.redis.keys(`${prefix}pending:*`);
  expect(pending).toEqual([]);
  expect(await b.redis.hlen(`${prefix}snapshots`)).toBe(CALLS);
});
