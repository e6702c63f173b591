/**
 * Instances sharing calls through a real redis-server: leases, forwarding
 * to the owner, takeover when the owner is gone, graceful hand-over, and the
 * plain Redis snapshot store for one instance that restarts.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeId } from '../../src/graph/ids.js';
import { createRedisCluster, createRedisSnapshotStore, type RedisCluster } from '../../src/redis/index.js';
import type { CallRuntimeOptions } from '../../src/runtime.js';
import { createWorld, type Instance, MIN, SEC, type World } from '../persistence/world.js';
import { connectRedis, dropKeys, testPrefix } from './redis.js';

const KEY = Buffer.alloc(32, 9).toString('hex');
const LEASE = { leaseMs: 30 * SEC, renewMs: 10 * SEC };

let w: World | undefined;
const clients: Redis[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await w?.close();
  w = undefined;
  const admin = clients[0];
  if (admin?.status === 'ready') for (const p of prefixes.splice(0)) await dropKeys(admin, p);
  for (const c of clients.splice(0)) c.disconnect();
});

async function client(): Promise<Redis> {
  const r = await connectRedis();
  clients.push(r);
  return r;
}

interface Node extends Instance {
  cluster: RedisCluster;
  redis: Redis;
}

async function node(world: World, name: string, prefix: string, extra: Partial<CallRuntimeOptions> = {}) {
  const redis = await client();
  const cluster = createRedisCluster({ redis, tokenKey: KEY, instanceId: name, prefix, ...LEASE });
  await cluster.ready();
  const inst = world.start(name, { cluster, ...extra });
  return Object.assign(inst, { cluster, redis }) as Node;
}

/** What a killed process leaves: leases in Redis, no renewals, no connections. */
async function kill(world: World, n: Node) {
  world.detach(n);
  await n.cluster.abandon();
  n.redis.disconnect();
  await n.runtime.stop();
}

describe('redis cluster', () => {
  it('a notification that lands on a non-owner is forwarded to the owner and handled there', async () => {
    w = await createWorld();
    const prefix = testPrefix('fwd');
    prefixes.push(prefix);
    const a = await node(w, 'A', prefix);
    const b = await node(w, 'B', prefix);
    const id = w.newCall();
    a.runtime.track(id);
    await w.clock.advance(SEC);
    expect(a.cluster.owned()).toEqual([normalizeId(id)]);
    w.detach(a); // the load balancer sends everything to B now

    w.emulator.control.hangUpByCaller(id);
    await w.clock.advance(SEC);

    expect(a.events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'terminated' });
    expect(b.runtime.stats().tracked).toBe(0);
    // Graph sends the hang-up as more than one notification: each went to A and was acknowledged.
    const { queuedForOwner, forwarded, acked, ackTimeouts } = b.cluster.stats;
    expect(queuedForOwner).toBeGreaterThanOrEqual(1);
    expect([forwarded, acked, ackTimeouts]).toEqual([queuedForOwner, queuedForOwner, 0]);
    expect(a.cluster.owned()).toEqual([]);
    expect(await a.redis.hlen(`${prefix}snapshots`)).toBe(0);
  });

  it('with no live owner, the instance that gets the notification takes the call over and handles it', async () => {
    w = await createWorld();
    const prefix = testPrefix('claim');
    prefixes.push(prefix);
    const a = await node(w, 'A', prefix);
    const id = w.newCall();
    const t0 = w.clock.now();
    a.runtime.track(id);
    await w.clock.advance(16 * MIN); // one keepAlive at 15 min
    await kill(w, a);
    await w.clock.advance(LEASE.leaseMs); // the lease lapses; nobody else runs yet

    const b = await node(w, 'B', prefix);
    w.emulator.control.hangUpByCaller(id);
    await w.clock.advance(SEC);

    expect(b.cluster.stats.claimedOnNotification).toBe(1);
    expect(b.events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'terminated' });
    expect(w.keepAlives(id).map(([at]) => (at - t0) / MIN)).toEqual([15]);
    expect(await b.redis.hlen(`${prefix}snapshots`)).toBe(0);
  });

  it('two notifications at once for a call with no live owner: the call is claimed and restored once', async () => {
    w = await createWorld();
    const prefix = testPrefix('claim2');
    prefixes.push(prefix);
    const a = await node(w, 'A', prefix);
    const id = w.newCall();
    a.runtime.track(id);
    await w.clock.advance(SEC);
    await kill(w, a);
    await w.clock.advance(LEASE.leaseMs);

    const b = await node(w, 'B', prefix);
    w.detach(b); // only the two notifications below reach B
    const update = (state: string) =>
      JSON.stringify({
        value: [
          {
            changeType: 'updated',
            resourceUrl: `/communications/calls/${id}`,
            resourceData: { '@odata.type': '#microsoft.graph.call', state },
          },
        ],
      });
    // The second arrives while the first one's claim is still on its way to Redis.
    const replies = await Promise.all([
      b.runtime.handleNotification(update('established'), {}),
      b.runtime.handleNotification(update('established'), {}),
    ]);
    expect(replies.map((r) => r.status)).toEqual([202, 202]);
    await w.clock.advance(SEC);

    expect(b.cluster.stats.claimedOnNotification).toBe(1);
    expect(b.logs.filter((l) => l.msg === 'took over call on notification (no live owner)')).toHaveLength(1);
    expect(b.cluster.owned()).toEqual([normalizeId(id)]);
    expect(b.runtime.get(id)?.getSnapshot().status).toBe('active');
  });

  it('a killed instance: its calls are claimed when the lease lapses and keep their keepAlive times', async () => {
    w = await createWorld();
    const prefix = testPrefix('kill');
    prefixes.push(prefix);
    const a = await node(w, 'A', prefix);
    const b = await node(w, 'B', prefix);
    const ids = [w.newCall(), w.newCall(), w.newCall()];
    const t0 = w.clock.now();
    for (const id of ids) a.runtime.track(id);
    await w.clock.advance(20 * MIN);
    await kill(w, a);
    await w.clock.advance(LEASE.leaseMs + LEASE.renewMs);
    expect(b.cluster.owned().sort()).toEqual(ids.map(normalizeId).sort());
    await w.clock.advance(30 * MIN);
    for (const id of ids) {
      expect(w.keepAlives(id).map(([at, s]) => [(at - t0) / MIN, s])).toEqual([
        [15, 200],
        [30, 200],
        [45, 200],
      ]);
    }
    expect(w.attempts.filter((x) => x.instance === 'B').map((x) => (x.at - t0) / MIN)).toEqual([
      30, 30, 30, 45, 45, 45,
    ]);
  });

  it('a graceful stop hands calls over at once (leases released, snapshots kept)', async () => {
    w = await createWorld();
    const prefix = testPrefix('handover');
    prefixes.push(prefix);
    const a = await node(w, 'A', prefix);
    const b = await node(w, 'B', prefix);
    const id = w.newCall();
    a.runtime.track(id);
    await w.clock.advance(SEC);
    w.detach(a);
    await a.runtime.stop();
    expect(await b.redis.hget(`${prefix}owners`, normalizeId(id))).toBeNull();
    await w.clock.advance(LEASE.renewMs);
    expect(b.cluster.owned()).toEqual([normalizeId(id)]);
    expect(b.runtime.get(id)?.getSnapshot().value).toEqual({ established: 'active' });
  });

  it('a call another instance owns cannot be run twice: the second copy is stopped on its first save', async () => {
    w = await createWorld();
    const prefix = testPrefix('conflict');
    prefixes.push(prefix);
    const a = await node(w, 'A', prefix);
    const b = await node(w, 'B', prefix);
    const id = w.newCall();
    a.runtime.track(id);
    await w.clock.advance(SEC);
    b.runtime.track(id); // a mistake: B was told to track A's call
    await w.clock.advance(SEC);
    expect(b.runtime.get(id)).toBeUndefined();
    expect(b.cluster.stats.conflicts).toBe(1);
    expect(b.logs.some((l) => l.msg === 'call handed over to another instance')).toBe(true);
    await w.clock.advance(16 * MIN);
    expect(w.attempts.map((x) => x.instance)).toEqual(['A']);
  });

  it('a lease taken away is noticed at the next renewal; when the call comes back it is saved again', async () => {
    w = await createWorld();
    const prefix = testPrefix('lost');
    prefixes.push(prefix);
    const a = await node(w, 'A', prefix);
    const id = normalizeId(w.newCall());
    a.runtime.track(id);
    await w.clock.advance(SEC);
    // Another instance (here: by hand) owns the call now, with a live lease.
    await a.redis.hset(`${prefix}owners`, id, 'X');
    await a.redis.zadd(`${prefix}expiry`, w.clock.now() + 10 * MIN, id);
    await w.clock.advance(LEASE.renewMs);
    expect(a.runtime.get(id)).toBeUndefined();
    expect(a.cluster.stats.lost).toBe(1);

    // X goes away without releasing; once its lease lapses A claims the call back and saves it again.
    const savedBefore = JSON.parse((await a.redis.hget(`${prefix}snapshots`, id)) ?? '{}').savedAt as number;
    await w.clock.advance(10 * MIN + LEASE.renewMs);
    expect(a.runtime.get(id)?.getSnapshot().status).toBe('active');
    expect(a.cluster.owned()).toEqual([id]);
    await w.clock.advance(5 * MIN); // the keepAlive at 15 min changes the call: a new save
    const savedAfter = JSON.parse((await a.redis.hget(`${prefix}snapshots`, id)) ?? '{}').savedAt as number;
    expect(savedAfter).toBeGreaterThan(savedBefore);
    expect(await a.redis.hget(`${prefix}owners`, id)).toBe('A');
  });

  it('options are checked with clear errors', async () => {
    const redis = await client();
    expect(() => createRedisCluster({ redis, tokenKey: 'short' })).toThrow(
      /tokenKey must be 32 random bytes/,
    );
    expect(() => createRedisCluster({ redis, tokenKey: KEY, leaseMs: 10_000, renewMs: 6_000 })).toThrow(
      /renewMs must be at most half of leaseMs/,
    );
    expect(() => createRedisCluster({ redis: {} as Redis, tokenKey: KEY })).toThrow(/ioredis client/);
    // The key's name says what it seals; `tokenKey` above is its deprecated alias.
    expect(() => createRedisCluster({ redis, recordingTokenKey: 'short' })).toThrow(
      /recordingTokenKey \/ tokenKey must be 32 random bytes/,
    );
    expect(() => createRedisCluster({ redis })).toThrow(/recordingTokenKey/);
    const named = createRedisCluster({ redis, recordingTokenKey: KEY, prefix: 'gcm-test-named:' });
    expect(named.recordingTokenKey).toBe(KEY);
    await named.stop();
  });
});

describe('redis snapshot store (one instance, restarts)', () => {
  it('a restarted instance resumes its calls from Redis', async () => {
    w = await createWorld();
    const prefix = testPrefix('store');
    prefixes.push(prefix);
    const redis = await client();
    const a = w.start('A', { snapshots: createRedisSnapshotStore({ redis, prefix }) });
    const id = w.newCall();
    const t0 = w.clock.now();
    a.runtime.track(id);
    await w.clock.advance(20 * MIN);
    w.detach(a);
    await a.runtime.stop();
    expect(await redis.hlen(`${prefix}snapshots`)).toBe(1);

    const b = w.start('B', { snapshots: createRedisSnapshotStore({ redis, prefix }) });
    expect(await b.runtime.resume()).toEqual([normalizeId(id)]);
    await w.clock.advance(11 * MIN);
    expect(w.keepAlives(id).map(([at]) => (at - t0) / MIN)).toEqual([15, 30]);
    await b.runtime.hangUp(id);
    await w.clock.advance(0);
    expect(await redis.hlen(`${prefix}snapshots`)).toBe(0);
  });
});
