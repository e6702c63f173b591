/**
 * Several bot instances sharing calls through one Redis (see docs/scale-out.md).
 *
 * Ownership: each call has a lease — an owner instance id and an expiry on
 * the runtime's clock — changed only by Lua scripts, so exactly one instance
 * runs a call and sends its keepAlives. The owner renews its leases on the
 * clock; a lease that is not renewed lapses and another instance claims the
 * call, restores it from its snapshot and goes on with its keepAlives.
 * Saving a snapshot needs the lease (a save on a call another instance owns
 * is refused, and the runtime stops its copy). While Redis is unreachable an
 * instance keeps running its calls and holds the notifications it must pass
 * on; when Redis is back it claims nothing for one lease, so every owner
 * renews its own leases first and no call changes hands for the outage alone.
 *
 * Notifications: one that reaches an instance that does not run the call is
 * queued in Redis for the owner (sealed with the tokenKey: it may carry a
 * recording token) and the owner is nudged over pub/sub; it drains the queue,
 * routes the notifications and acknowledges. If the owner is gone the queue
 * waits for whoever claims the call; if no instance holds a live lease, the
 * receiving instance claims the call at once and handles it.
 *
 * Expiries are compared with the clock time the instances pass in (not
 * Redis's), so leases work on simulated time; on the wall clock keep the
 * instances' clocks in sync (NTP). Keys: `<prefix>snapshots` (hash),
 * `<prefix>owners` (hash), `<prefix>expiry` (sorted set),
 * `<prefix>pending:<callId>` (lists), channel `<prefix>inbox:<instanceId>`.
 * One Redis primary (with replicas/Sentinel as you like); not Redis Cluster
 * mode, since the scripts touch keys of several calls.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { normalizeId } from '../graph/ids.js';
import { type ParsedNotification, parseNotifications } from '../notifications/index.js';
import type { ClusterAdapter, ClusterNode } from '../runtime/cluster.js';
import { parseSealKey, type SealKey, seal, unseal } from '../runtime/seal.js';
import { type Clock, trackWork } from './clock.js';
import { checkPrefix, redisScript } from './redis-script.js';
import { type SnapshotStore, SnapshotStoreError, type StoredSnapshot } from './snapshot-store.js';

export interface RedisClusterOptions {
  /** An ioredis client for commands; the adapter opens one more (`duplicate()`) for pub/sub. */
  redis: Redis;
  /** 32 random bytes shared by all instances (base64 or hex string, or bytes): seals tokens. */
  tokenKey: SealKey;
  /** Unique per instance (default: host name, pid and random). */
  instanceId?: string;
  /** Key prefix (default `gcm:`). All instances of one bot use the same. */
  prefix?: string;
  /** Lease length (default 20 s). A dead instance's calls move after at most leaseMs + renewMs. */
  leaseMs?: number;
  /** Renew leases, drain queued notifications and claim orphaned calls this often (default leaseMs / 4). */
  renewMs?: number;
  /** Most calls claimed per round (default 100), so survivors share a dead instance's calls. */
  claimBatch?: number;
  /** How long a forwarding instance waits for the owner's acknowledgement (default 5 s; the queue keeps it anyway). */
  ackTimeoutMs?: number;
  /** Queued notifications expire after this long in Redis (default 1 h): a safety net, not a schedule. */
  pendingTtlMs?: number;
}

export class RedisClusterError extends Error {
  override readonly name = 'RedisClusterError';
  constructor(
    readonly code: 'invalidOptions' | 'notAttached',
    message: string,
  ) {
    super(message);
  }
}

export interface RedisClusterStats {
  saves: number;
  conflicts: number;
  renewRounds: number;
  renewErrors: number;
  claimed: number;
  lost: number;
  /** Times Redis came back after leases could lapse: claims held back for one lease. */
  heldBack: number;
  /** Notifications held locally (Redis unreachable, or claims held back), passed on later. */
  deferred: number;
  forwarded: number;
  queuedForOwner: number;
  acked: number;
  ackTimeouts: number;
  claimedOnNotification: number;
  drained: number;
  unknownCalls: number;
}

export interface RedisCluster extends ClusterAdapter {
  readonly instanceId: string;
  /** Resolves once the pub/sub inbox is subscribed. */
  ready(): Promise<void>;
  /** Normalised ids of the calls this instance holds a lease on. */
  owned(): string[];
  /**
   * Crash drill: stop the timers and the inbox WITHOUT releasing any lease,
   * as a killed process would leave things. Disconnect the client yourself.
   */
  abandon(): Promise<void>;
  readonly stats: RedisClusterStats;
}

// --- Lua. Times are clock milliseconds passed in by the caller. ---------------

// KEYS: snapshots, owners, expiry. ARGV: id, me, now, leaseMs, json.
const SAVE = redisScript(`
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] then
  local exp = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0')
  if exp > tonumber(ARGV[3]) then return owner end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
return 1
`);

// KEYS: snapshots, owners, expiry, pending list. ARGV: id, me.
const DELETE = redisScript(`
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] then return owner end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4])
return 1
`);

// Renew my leases; report the ones I lost and the ones with queued notifications.
// KEYS: owners, expiry. ARGV: me, expiresAt, pendingPrefix, ids...
const RENEW = redisScript(`
local lost, pending = {}, {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[1], id) == ARGV[1] then
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    if redis.call('EXISTS', ARGV[3] .. id) == 1 then pending[#pending + 1] = id end
  else
    lost[#lost + 1] = id
  end
end
return {lost, pending}
`);

// Claim up to ARGV[4] calls whose lease lapsed. KEYS: snapshots, owners, expiry.
// ARGV: me, now, leaseMs, limit. Returns {id, json, id, json, ...}.
const CLAIM = redisScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    redis.call('HSET', KEYS[2], id, ARGV[1])
    redis.call('ZADD', KEYS[3], tonumber(ARGV[2]) + tonumber(ARGV[3]), id)
    out[#out + 1] = id
    out[#out + 1] = json
  else
    redis.call('ZREM', KEYS[3], id)
    redis.call('HDEL', KEYS[2], id)
  end
end
return out
`);

// A notification for a call this instance does not run. KEYS: snapshots, owners, expiry, pending list.
// ARGV: id, me, now, leaseMs, sealed batch, pendingTtlMs.
const ROUTE = redisScript(`
local owner = redis.call('HGET', KEYS[2], ARGV[1])
local exp = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0')
if owner and owner ~= ARGV[2] and exp > tonumber(ARGV[3]) then
  redis.call('RPUSH', KEYS[4], ARGV[5])
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
  return {'queued', owner}
end
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return {'unknown'} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
return {'claimed', json}
`);

// KEYS: pending list. Returns and removes everything queued.
const DRAIN = redisScript(`
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items
`);

// Hand my calls back: lease expired now, snapshots kept. KEYS: owners, expiry. ARGV: me, ids...
const RELEASE = redisScript(`
local n = 0
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('ZADD', KEYS[2], 0, ARGV[i])
    n = n + 1
  end
end
return n
`);

const CHUNK = 500;
/** Notification batches held while Redis is unreachable, at most. */
const MAX_DEFERRED = 10_000;

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n <= 0)
    throw new RedisClusterError(
      'invalidOptions',
      `createRedisCluster: ${name} must be a positive integer (ms)`,
    );
  return n;
}

interface Message {
  t: 'nudge' | 'ack';
  id: string;
  from?: string;
  callId?: string;
}

export function createRedisCluster(options: RedisClusterOptions): RedisCluster {
  const { redis } = options;
  if (!redis || typeof redis.evalsha !== 'function' || typeof redis.duplicate !== 'function')
    throw new RedisClusterError('invalidOptions', 'createRedisCluster: `redis` must be an ioredis client');
  const key = parseSealKey(options.tokenKey);
  const prefix = checkPrefix(options.prefix, 'gcm:');
  const me = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (typeof me !== 'string' || !/^[\w.:-]{1,100}$/.test(me))
    throw new RedisClusterError(
      'invalidOptions',
      'createRedisCluster: instanceId must match [A-Za-z0-9_.:-]{1,100}',
    );
  const leaseMs = positiveInt('leaseMs', options.leaseMs, 20_000);
  const renewMs = positiveInt('renewMs', options.renewMs, Math.max(1, Math.floor(leaseMs / 4)));
  if (renewMs * 2 > leaseMs)
    throw new RedisClusterError(
      'invalidOptions',
      'createRedisCluster: renewMs must be at most half of leaseMs',
    );
  const claimBatch = positiveInt('claimBatch', options.claimBatch, 100);
  const ackTimeoutMs = positiveInt('ackTimeoutMs', options.ackTimeoutMs, 5_000);
  const pendingTtlMs = positiveInt('pendingTtlMs', options.pendingTtlMs, 3_600_000);

  const K = {
    snapshots: `${prefix}snapshots`,
    owners: `${prefix}owners`,
    expiry: `${prefix}expiry`,
    pendingPrefix: `${prefix}pending:`,
    pending: (id: string) => `${prefix}pending:${id}`,
    inbox: (instance: string) => `${prefix}inbox:${instance}`,
  };

  const stats: RedisClusterStats = {
    saves: 0,
    conflicts: 0,
    renewRounds: 0,
    renewErrors: 0,
    claimed: 0,
    lost: 0,
    heldBack: 0,
    deferred: 0,
    forwarded: 0,
    queuedForOwner: 0,
    acked: 0,
    ackTimeouts: 0,
    claimedOnNotification: 0,
    drained: 0,
    unknownCalls: 0,
  };
  const owned = new Set<string>();
  const adopting = new Map<string, Promise<boolean>>();
  // Per call: the tail of the route steps (ROUTE and what its reply decides) running here.
  const routing = new Map<string, Promise<void>>();
  const acks = new Map<string, () => void>();
  let node: ClusterNode | undefined;
  let clock: Clock | undefined;
  let timer: unknown;
  let stopped = false;
  let lastRenewOk = 0;
  // After Redis was unreachable long enough for leases to lapse, no claims before this clock time.
  let holdClaimsUntil = 0;
  const deferred: Array<{ id: string; items: ParsedNotification[]; at: number }> = [];
  let ackSeq = 0;
  const sub = redis.duplicate();
  const subscribed = sub.subscribe(K.inbox(me)).then(
    () => {},
    (err: unknown) => {
      node?.log({ level: 'error', msg: 'cluster inbox subscription failed', error: (err as Error)?.message });
    },
  );
  sub.on('error', () => {}); // ioredis reconnects by itself; failures show up in the commands
  sub.on('message', (_channel: string, text: string) => onMessage(text));

  const need = (): { node: ClusterNode; clock: Clock } => {
    if (!node || !clock)
      throw new RedisClusterError('notAttached', 'redis cluster: not attached to a runtime yet');
    return { node, clock };
  };
  const now = () => need().clock.now();
  const track = <T>(p: Promise<T>): Promise<T> => (clock ? trackWork(clock, p) : p);
  const log: ClusterNode['log'] = (e) => node?.log(e);
  /** Leases may have lapsed for want of Redis, or Redis just came back: claim nothing now. */
  const holding = () => now() < holdClaimsUntil || now() - lastRenewOk > leaseMs - renewMs;

  function parseSealed(id: string, sealedBatches: string[]): ParsedNotification[] {
    const out: ParsedNotification[] = [];
    for (const s of sealedBatches) {
      try {
        out.push(...parseNotifications(unseal(key, s, id)));
      } catch (err) {
        log({
          level: 'warn',
          msg: 'queued notification unreadable; dropped',
          callId: id,
          error: (err as Error)?.message,
        });
      }
    }
    return out;
  }

  async function drain(id: string): Promise<ParsedNotification[]> {
    const raw = (await DRAIN.run(redis, [K.pending(id)], [])) as string[];
    stats.drained += raw.length;
    return raw.length ? parseSealed(id, raw) : [];
  }

  /** Restore a call this instance now holds the lease on, then hand it the queued notifications. */
  function adopt(id: string, json: string, items: ParsedNotification[] = []): Promise<boolean> {
    const prev = adopting.get(id);
    if (prev)
      return prev.then(() => {
        if (items.length) deliverOrLog(id, items);
        return true;
      });
    owned.add(id);
    const p = (async () => {
      const ok = await need().node.adopt({ callId: id, json } satisfies StoredSnapshot, items);
      if (!ok) {
        owned.delete(id);
        return false;
      }
      const queued = await drain(id);
      if (queued.length) deliverOrLog(id, queued);
      return true;
    })().finally(() => adopting.delete(id));
    adopting.set(id, p);
    return p;
  }

  function deliverOrLog(id: string, items: ParsedNotification[]) {
    const left = need().node.deliver(items);
    if (left.length)
      log({
        level: 'info',
        msg: 'queued notifications for a call no longer running here; dropped',
        callId: id,
      });
  }

  async function claimOrphans(): Promise<string[]> {
    const { node: n } = need();
    if (stopped || holding()) return [];
    const flat = (await CLAIM.run(
      redis,
      [K.snapshots, K.owners, K.expiry],
      [me, now(), leaseMs, claimBatch],
    )) as string[];
    const adopted: string[] = [];
    const work: Promise<void>[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i] as string;
      const json = flat[i + 1] as string;
      stats.claimed++;
      n.log({ level: 'info', msg: 'claimed call whose lease lapsed', callId: id });
      work.push(
        adopt(id, json).then((ok) => {
          if (ok) adopted.push(id);
        }),
      );
    }
    await Promise.all(work);
    return adopted;
  }

  async function renew(): Promise<void> {
    const { node: n, clock: c } = need();
    const ids = [...owned].filter((id) => !adopting.has(id));
    const t = c.now();
    const lost: string[] = [];
    const pending: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const part = ids.slice(i, i + CHUNK);
      const [l, p] = (await RENEW.run(
        redis,
        [K.owners, K.expiry],
        [me, t + leaseMs, K.pendingPrefix, ...part],
      )) as [string[], string[]];
      lost.push(...l);
      pending.push(...p);
    }
    // Cut off long enough for leases to lapse: every other owner gets one lease to renew its own first.
    if (c.now() - lastRenewOk > leaseMs - renewMs) {
      holdClaimsUntil = c.now() + leaseMs + renewMs;
      stats.heldBack++;
      n.log({ level: 'warn', msg: 'Redis reachable again; claims held back for one lease' });
    }
    lastRenewOk = t;
    stats.renewRounds++;
    for (const id of lost) {
      if (!owned.delete(id)) continue;
      stats.lost++;
      n.log({ level: 'warn', msg: 'lease lost to another instance; local copy stopped', callId: id });
      n.drop(id);
    }
    for (const id of pending) {
      const items = await drain(id);
      if (items.length) deliverOrLog(id, items);
    }
  }

  /**
   * Cannot renew: the calls keep running here (keepAlives, recordings). No other instance can
   * claim them while Redis is away, and once it is back they renew before anyone claims.
   */
  function renewFailed(err: unknown) {
    const { node: n, clock: c } = need();
    stats.renewErrors++;
    n.log({
      level: 'error',
      msg: 'lease renewal failed',
      error: (err as Error)?.message,
      sinceLastOkMs: c.now() - lastRenewOk,
    });
  }

  /** Hold notifications for another instance until Redis takes them (bounded by count and pendingTtlMs). */
  function defer(id: string, items: ParsedNotification[]) {
    stats.deferred += items.length;
    deferred.push({ id, items, at: now() });
    if (deferred.length > MAX_DEFERRED) {
      const gone = deferred.shift();
      log({ level: 'error', msg: 'too many notifications held; oldest dropped', callId: gone?.id });
    }
  }

  async function passDeferred(): Promise<void> {
    if (!deferred.length || holding()) return;
    const batch = deferred.splice(0);
    const oldest = now() - pendingTtlMs;
    const live = batch.filter((d) => d.at >= oldest);
    if (live.length < batch.length)
      log({ level: 'error', msg: 'held notifications expired; dropped', count: batch.length - live.length });
    await Promise.all(
      live.map((d) =>
        forwardOne(d.id, d.items).catch((err: unknown) =>
          log({
            level: 'error',
            msg: 'forwarding a notification failed',
            callId: d.id,
            error: (err as Error)?.message,
          }),
        ),
      ),
    );
  }

  async function tick(): Promise<void> {
    try {
      await renew();
    } catch (err) {
      renewFailed(err);
    }
    await passDeferred();
    try {
      await claimOrphans();
    } catch (err) {
      log({ level: 'warn', msg: 'claiming orphaned calls failed', error: (err as Error)?.message });
    }
  }

  function schedule() {
    if (stopped || !clock) return;
    const c = clock;
    timer = c.setTimeout(() => {
      timer = undefined;
      void track(tick()).finally(schedule);
    }, renewMs);
  }

  /** Resolves on the owner's acknowledgement, or after ackTimeoutMs (the queue keeps the notification anyway). */
  function expectAck(id: string): { done: Promise<void>; cancel(): void } {
    const c = need().clock;
    let handle: unknown;
    const done = new Promise<void>((resolve) => {
      handle = c.setTimeout(() => {
        if (acks.delete(id)) {
          stats.ackTimeouts++;
          resolve();
        }
      }, ackTimeoutMs);
      acks.set(id, () => {
        c.clearTimeout(handle);
        stats.acked++;
        resolve();
      });
    });
    return {
      done,
      cancel: () => {
        c.clearTimeout(handle);
        acks.delete(id);
      },
    };
  }

  function onMessage(text: string) {
    let msg: Message;
    try {
      msg = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (msg.t === 'ack') {
      const done = acks.get(msg.id);
      acks.delete(msg.id);
      done?.();
      return;
    }
    if (msg.t !== 'nudge' || typeof msg.callId !== 'string' || !node || stopped) return;
    const id = msg.callId;
    void track(
      (async () => {
        try {
          const wait = adopting.get(id);
          if (wait) await wait;
          const items = await drain(id);
          if (items.length) deliverOrLog(id, items);
        } catch (err) {
          log({
            level: 'warn',
            msg: 'draining queued notifications failed',
            callId: id,
            error: (err as Error)?.message,
          });
        } finally {
          if (msg.from)
            await redis.publish(K.inbox(msg.from), JSON.stringify({ t: 'ack', id: msg.id })).catch(() => 0);
        }
      })(),
    );
  }

  /**
   * Run `step` after every route step of the same call started before it on this instance.
   * A claim is recorded (in `adopting`) only once ROUTE's reply is back: without the queue, a
   * second notification arriving meanwhile would find no adoption, run ROUTE as well, find
   * itself the owner and claim (and count) the call a second time.
   */
  async function routeInTurn<T>(id: string, step: () => Promise<T>): Promise<T> {
    const before = routing.get(id) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = before.then(() => mine);
    routing.set(id, tail);
    await before;
    try {
      return await step();
    } finally {
      done();
      if (routing.get(id) === tail) routing.delete(id);
    }
  }

  const HELD = { held: true } as const;

  async function forwardOne(id: string, items: ParsedNotification[]): Promise<void> {
    const { node: n } = need();
    // Only the decision is serialised; waiting for the owner's ack or for the restore happens after.
    const res = await routeInTurn(id, async () => {
      const wait = adopting.get(id);
      if (wait) await wait;
      // The call may run here by now (adopted by an earlier notification or by the renewal round).
      if (!n.deliver(items).length) return undefined;
      // ROUTE would take over a call whose owner could not renew for want of Redis: hold it instead.
      if (holding()) return HELD;
      const batch = JSON.stringify({ value: items.map((i) => i.raw ?? {}) });
      let r: [string, string?];
      try {
        r = (await ROUTE.run(
          redis,
          [K.snapshots, K.owners, K.expiry, K.pending(id)],
          [id, me, now(), leaseMs, seal(key, batch, id), pendingTtlMs],
        )) as [string, string?];
      } catch (err) {
        log({
          level: 'warn',
          msg: 'Redis unreachable; notification held',
          callId: id,
          error: (err as Error)?.message,
        });
        return HELD;
      }
      if (r[0] !== 'claimed') return { r };
      stats.claimedOnNotification++;
      log({ level: 'info', msg: 'took over call on notification (no live owner)', callId: id });
      // adopt() registers in `adopting` before it returns: the next route step of this call sees it.
      return { r, adoption: adopt(id, r[1] as string, items) };
    });
    if (!res) return;
    if ('held' in res) return defer(id, items);
    if (res.adoption) {
      await res.adoption;
      return;
    }
    if (res.r[0] === 'queued') {
      stats.queuedForOwner++;
      const owner = res.r[1] as string;
      const ackId = `${me}/${++ackSeq}`;
      const ack = expectAck(ackId);
      const receivers = await redis
        .publish(K.inbox(owner), JSON.stringify({ t: 'nudge', id: ackId, from: me, callId: id }))
        .catch((err: unknown) => {
          ack.cancel();
          throw err;
        });
      if (receivers > 0) {
        stats.forwarded++;
        await ack.done;
      } else {
        // The owner is gone: the queue waits for whoever claims the call when its lease lapses.
        ack.cancel();
        log({
          level: 'info',
          msg: 'owner unreachable; notification queued for the next owner',
          callId: id,
          owner,
        });
      }
    } else {
      stats.unknownCalls++;
      log({ level: 'info', msg: 'notification for a call no instance runs; ignored', callId: id });
    }
  }

  const snapshots: SnapshotStore = {
    async save(callId, json) {
      let res: unknown;
      try {
        res = await SAVE.run(redis, [K.snapshots, K.owners, K.expiry], [callId, me, now(), leaseMs, json]);
      } catch (err) {
        throw new SnapshotStoreError(
          'unavailable',
          `redis cluster: save failed: ${(err as Error)?.message}`,
          {
            cause: err,
          },
        );
      }
      if (res !== 1) {
        stats.conflicts++;
        owned.delete(callId);
        throw new SnapshotStoreError('conflict', `call ${callId} is owned by instance ${String(res)}`);
      }
      stats.saves++;
      owned.add(callId);
    },
    async loadAll() {
      // Claims lapsed leases; their queued notifications are drained on the next renewal round.
      const flat = (await CLAIM.run(
        redis,
        [K.snapshots, K.owners, K.expiry],
        [me, now(), leaseMs, claimBatch],
      )) as string[];
      const out: StoredSnapshot[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        owned.add(flat[i] as string);
        out.push({ callId: flat[i] as string, json: flat[i + 1] as string });
      }
      return out;
    },
    async delete(callId) {
      try {
        await DELETE.run(redis, [K.snapshots, K.owners, K.expiry, K.pending(callId)], [callId, me]);
      } catch (err) {
        throw new SnapshotStoreError(
          'unavailable',
          `redis cluster: delete failed: ${(err as Error)?.message}`,
          {
            cause: err,
          },
        );
      } finally {
        owned.delete(callId);
      }
    },
    async close() {},
  };

  async function shutdown(release: boolean) {
    if (stopped) return;
    stopped = true;
    if (timer !== undefined && clock) clock.clearTimeout(timer);
    timer = undefined;
    for (const done of acks.values()) done();
    acks.clear();
    if (deferred.length)
      log({ level: 'error', msg: 'stopped with held notifications; dropped', count: deferred.length });
    deferred.length = 0;
    if (release && owned.size) {
      const ids = [...owned];
      owned.clear();
      for (let i = 0; i < ids.length; i += CHUNK)
        await RELEASE.run(redis, [K.owners, K.expiry], [me, ...ids.slice(i, i + CHUNK)]).catch(
          (err: unknown) =>
            log({ level: 'warn', msg: 'releasing leases failed', error: (err as Error)?.message }),
        );
    }
    await subscribed;
    if (release) await sub.quit().catch(() => sub.disconnect());
    else sub.disconnect();
  }

  return {
    instanceId: me,
    tokenKey: options.tokenKey,
    snapshots,
    stats,
    ready: () => subscribed,
    owned: () => [...owned],
    attach(n) {
      if (node) throw new RedisClusterError('invalidOptions', 'redis cluster: already attached to a runtime');
      node = n;
      clock = n.clock;
      lastRenewOk = clock.now();
      schedule();
    },
    async forward(items) {
      if (stopped || !node) return;
      const byCall = new Map<string, ParsedNotification[]>();
      for (const item of items) {
        const id = item.ref?.callId ? normalizeId(item.ref.callId) : undefined;
        if (!id) continue;
        const list = byCall.get(id);
        if (list) list.push(item);
        else byCall.set(id, [item]);
      }
      await track(
        Promise.all(
          [...byCall].map(([id, list]) =>
            forwardOne(id, list).catch((err: unknown) =>
              log({
                level: 'error',
                msg: 'forwarding a notification failed',
                callId: id,
                error: (err as Error)?.message,
              }),
            ),
          ),
        ),
      );
    },
    claimOrphans: () => track(claimOrphans()),
    stop: () => shutdown(true),
    abandon: () => shutdown(false),
  };
}
