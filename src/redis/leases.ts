/**
 * Leases: claiming calls whose owner is gone, renewing this instance's own,
 * restoring a claimed call through the runtime, draining the notifications
 * queued for it, and the snapshot store that saves only under a lease.
 */
import { SnapshotStoreError } from '../ports/errors.js';
import type { ParsedNotification } from '../ports/notification.js';
import type { SnapshotStore, StoredSnapshot } from '../ports/stores.js';
import { CLAIM, DELETE, DRAIN, RENEW, SAVE } from './lua.js';
import { attached, type ClusterState, errorText, holdingClaims, logTo, nowOf } from './state.js';

/** Ids per script call when renewing or releasing many leases. */
export const CHUNK = 500;

function unpackAll(s: ClusterState, id: string, packed: string[]): ParsedNotification[] {
  const { node } = attached(s);
  const out: ParsedNotification[] = [];
  for (const text of packed) {
    try {
      out.push(...node.unpack(id, text));
    } catch (err) {
      logTo(s, {
        level: 'warn',
        msg: 'queued notification unreadable; dropped',
        callId: id,
        error: errorText(err),
      });
    }
  }
  return out;
}

/** Take (and remove) the notifications queued in Redis for a call. */
export async function drain(s: ClusterState, id: string): Promise<ParsedNotification[]> {
  const raw = (await DRAIN.run(s.redis, [s.keys.pending(id)], [])) as string[];
  s.stats.drained += raw.length;
  return raw.length ? unpackAll(s, id, raw) : [];
}

export function deliverOrLog(s: ClusterState, id: string, items: ParsedNotification[]): void {
  const left = attached(s).node.deliver(items);
  if (left.length)
    logTo(s, {
      level: 'info',
      msg: 'queued notifications for a call no longer running here; dropped',
      callId: id,
    });
}

/** Restore a call this instance now holds the lease on, then hand it the queued notifications. */
export function adopt(
  s: ClusterState,
  id: string,
  json: string,
  items: ParsedNotification[] = [],
): Promise<boolean> {
  const prev = s.adopting.get(id);
  if (prev)
    return prev.then(() => {
      if (items.length) deliverOrLog(s, id, items);
      return true;
    });
  s.owned.add(id);
  const p = (async () => {
    const ok = await attached(s).node.adopt({ callId: id, json } satisfies StoredSnapshot, items);
    if (!ok) {
      s.owned.delete(id);
      return false;
    }
    const queued = await drain(s, id);
    if (queued.length) deliverOrLog(s, id, queued);
    return true;
  })().finally(() => s.adopting.delete(id));
  s.adopting.set(id, p);
  return p;
}

/** Claim up to claimBatch calls whose lease lapsed: `[id, json, id, json, ...]`. */
async function claimLapsed(s: ClusterState): Promise<string[]> {
  return (await CLAIM.run(
    s.redis,
    [s.keys.snapshots, s.keys.owners, s.keys.expiry],
    [s.instanceId, nowOf(s), s.leaseMs, s.claimBatch],
  )) as string[];
}

export async function claimOrphans(s: ClusterState): Promise<string[]> {
  const { node } = attached(s);
  if (s.stopped || holdingClaims(s)) return [];
  const flat = await claimLapsed(s);
  const adopted: string[] = [];
  const work: Promise<void>[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const id = flat[i] as string;
    const json = flat[i + 1] as string;
    s.stats.claimed++;
    node.log({ level: 'info', msg: 'claimed call whose lease lapsed', callId: id });
    work.push(
      adopt(s, id, json).then((ok) => {
        if (ok) adopted.push(id);
      }),
    );
  }
  await Promise.all(work);
  return adopted;
}

export async function renew(s: ClusterState): Promise<void> {
  const { node, clock } = attached(s);
  const ids = [...s.owned].filter((id) => !s.adopting.has(id));
  const t = clock.now();
  const lost: string[] = [];
  const pending: string[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const [l, p] = (await RENEW.run(
      s.redis,
      [s.keys.owners, s.keys.expiry],
      [s.instanceId, t + s.leaseMs, s.keys.pendingPrefix, ...part],
    )) as [string[], string[]];
    lost.push(...l);
    pending.push(...p);
  }
  // Cut off long enough for leases to lapse: every other owner gets one lease to renew its own first.
  if (clock.now() - s.lastRenewOk > s.leaseMs - s.renewMs) {
    s.holdClaimsUntil = clock.now() + s.leaseMs + s.renewMs;
    s.stats.heldBack++;
    node.log({ level: 'warn', msg: 'Redis reachable again; claims held back for one lease' });
  }
  s.lastRenewOk = t;
  s.stats.renewRounds++;
  for (const id of lost) {
    if (!s.owned.delete(id)) continue;
    s.stats.lost++;
    node.log({ level: 'warn', msg: 'lease lost to another instance; local copy stopped', callId: id });
    node.drop(id);
  }
  for (const id of pending) {
    const items = await drain(s, id);
    if (items.length) deliverOrLog(s, id, items);
  }
}

/**
 * Cannot renew: the calls keep running here (keepAlives, recordings). No other instance can
 * claim them while Redis is away, and once it is back they renew before anyone claims.
 */
export function renewFailed(s: ClusterState, err: unknown): void {
  const { node, clock } = attached(s);
  s.stats.renewErrors++;
  node.log({
    level: 'error',
    msg: 'lease renewal failed',
    error: errorText(err),
    sinceLastOkMs: clock.now() - s.lastRenewOk,
  });
}

const unavailable = (what: string, err: unknown) =>
  new SnapshotStoreError('unavailable', `redis cluster: ${what} failed: ${errorText(err)}`, { cause: err });

/** Saves only under this instance's lease; loading claims the lapsed ones. */
export function leasedSnapshots(s: ClusterState): SnapshotStore {
  const { keys } = s;
  return {
    async save(callId, json) {
      let res: unknown;
      try {
        res = await SAVE.run(
          s.redis,
          [keys.snapshots, keys.owners, keys.expiry],
          [callId, s.instanceId, nowOf(s), s.leaseMs, json],
        );
      } catch (err) {
        throw unavailable('save', err);
      }
      if (res !== 1) {
        s.stats.conflicts++;
        s.owned.delete(callId);
        throw new SnapshotStoreError('conflict', `call ${callId} is owned by instance ${String(res)}`);
      }
      s.stats.saves++;
      s.owned.add(callId);
    },
    async loadAll() {
      // Claims lapsed leases; their queued notifications are drained on the next renewal round.
      const flat = await claimLapsed(s);
      const out: StoredSnapshot[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        s.owned.add(flat[i] as string);
        out.push({ callId: flat[i] as string, json: flat[i + 1] as string });
      }
      return out;
    },
    async delete(callId) {
      try {
        await DELETE.run(
          s.redis,
          [keys.snapshots, keys.owners, keys.expiry, keys.pending(callId)],
          [callId, s.instanceId],
        );
      } catch (err) {
        throw unavailable('delete', err);
      } finally {
        s.owned.delete(callId);
      }
    },
    async close() {},
  };
}
