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
 * queued in Redis for the owner (sealed by the runtime with the recordingTokenKey: it may carry a
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
import type { ClusterNode } from '../ports/cluster.js';
import type { ParsedNotification } from '../ports/notification.js';
import { forward, onInboxMessage, passDeferred } from './forwarding.js';
import { CHUNK, claimOrphans, leasedSnapshots, renew, renewFailed } from './leases.js';
import { RELEASE } from './lua.js';
import {
  checkClusterOptions,
  type RedisCluster,
  RedisClusterError,
  type RedisClusterOptions,
} from './options.js';
import { type ClusterState, createClusterState, errorText, logTo, tracked } from './state.js';

export {
  type RedisCluster,
  RedisClusterError,
  type RedisClusterOptions,
  type RedisClusterStats,
} from './options.js';

/** One renewal round: renew, pass held notifications on, claim orphans; each failure logged, none fatal. */
async function tick(s: ClusterState): Promise<void> {
  try {
    await renew(s);
  } catch (err) {
    renewFailed(s, err);
  }
  await passDeferred(s);
  try {
    await claimOrphans(s);
  } catch (err) {
    logTo(s, { level: 'warn', msg: 'claiming orphaned calls failed', error: errorText(err) });
  }
}

export function createRedisCluster(options: RedisClusterOptions): RedisCluster {
  const s = createClusterState(options.redis, checkClusterOptions(options));
  const { redis, instanceId } = s;
  let timer: unknown;
  const inbox = redis.duplicate();
  const subscribed = inbox.subscribe(s.keys.inbox(instanceId)).then(
    () => {},
    (err: unknown) => {
      logTo(s, { level: 'error', msg: 'cluster inbox subscription failed', error: errorText(err) });
    },
  );
  inbox.on('error', () => {}); // ioredis reconnects by itself; failures show up in the commands
  inbox.on('message', (_channel: string, text: string) => onInboxMessage(s, text));

  function schedule() {
    if (s.stopped || !s.clock) return;
    const clock = s.clock;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void tracked(s, tick(s)).finally(schedule);
    }, s.renewMs);
  }

  async function shutdown(release: boolean) {
    if (s.stopped) return;
    s.stopped = true;
    if (timer !== undefined && s.clock) s.clock.clearTimeout(timer);
    timer = undefined;
    for (const done of s.acks.values()) done();
    s.acks.clear();
    if (s.deferred.length)
      logTo(s, { level: 'error', msg: 'stopped with held notifications; dropped', count: s.deferred.length });
    s.deferred.length = 0;
    if (release && s.owned.size) {
      const ids = [...s.owned];
      s.owned.clear();
      for (let i = 0; i < ids.length; i += CHUNK)
        await RELEASE.run(
          redis,
          [s.keys.owners, s.keys.expiry],
          [instanceId, ...ids.slice(i, i + CHUNK)],
        ).catch((err: unknown) =>
          logTo(s, { level: 'warn', msg: 'releasing leases failed', error: errorText(err) }),
        );
    }
    await subscribed;
    if (release) await inbox.quit().catch(() => inbox.disconnect());
    else inbox.disconnect();
  }

  return {
    instanceId,
    recordingTokenKey: options.recordingTokenKey ?? options.tokenKey,
    tokenKey: options.recordingTokenKey ?? options.tokenKey,
    snapshots: leasedSnapshots(s),
    stats: s.stats,
    ready: () => subscribed,
    owned: () => [...s.owned],
    attach(node: ClusterNode) {
      if (s.node)
        throw new RedisClusterError('invalidOptions', 'redis cluster: already attached to a runtime');
      s.node = node;
      s.clock = node.clock;
      s.lastRenewOk = node.clock.now();
      schedule();
    },
    forward: (items: ParsedNotification[]) => forward(s, items),
    claimOrphans: () => tracked(s, claimOrphans(s)),
    stop: () => shutdown(true),
    abandon: () => shutdown(false),
  };
}
