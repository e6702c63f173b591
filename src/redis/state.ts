/**
 * What the parts of one Redis cluster adapter share: its settings, keys,
 * counters, the calls it holds leases on, and the runtime it is attached to.
 */
import type { Redis } from 'ioredis';
import { type Clock, trackWork } from '../ports/clock.js';
import type { ClusterNode } from '../ports/cluster.js';
import type { LogEntry } from '../ports/log.js';
import type { ParsedNotification } from '../ports/notification.js';
import { type ClusterSettings, RedisClusterError, type RedisClusterStats } from './options.js';

/** The Redis keys and channels of one prefix. */
export interface ClusterKeys {
  snapshots: string;
  owners: string;
  expiry: string;
  pendingPrefix: string;
  pending(callId: string): string;
  inbox(instanceId: string): string;
}

export interface ClusterState extends ClusterSettings {
  readonly redis: Redis;
  readonly keys: ClusterKeys;
  readonly stats: RedisClusterStats;
  /** Calls this instance holds a lease on. */
  readonly owned: Set<string>;
  /** Restores under way, by call id. */
  readonly adopting: Map<string, Promise<boolean>>;
  /** Per call: the tail of the route steps (ROUTE and what its reply decides) running here. */
  readonly routing: Map<string, Promise<void>>;
  /** Acknowledgements awaited, by message id. */
  readonly acks: Map<string, () => void>;
  /** Notifications held for other instances while Redis cannot take them. */
  readonly deferred: Array<{ id: string; items: ParsedNotification[]; at: number }>;
  node: ClusterNode | undefined;
  clock: Clock | undefined;
  stopped: boolean;
  lastRenewOk: number;
  /** After Redis was unreachable long enough for leases to lapse, no claims before this clock time. */
  holdClaimsUntil: number;
  ackSeq: number;
}

export function createClusterState(redis: Redis, settings: ClusterSettings): ClusterState {
  const { prefix } = settings;
  return {
    ...settings,
    redis,
    keys: {
      snapshots: `${prefix}snapshots`,
      owners: `${prefix}owners`,
      expiry: `${prefix}expiry`,
      pendingPrefix: `${prefix}pending:`,
      pending: (id) => `${prefix}pending:${id}`,
      inbox: (instance) => `${prefix}inbox:${instance}`,
    },
    stats: {
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
    },
    owned: new Set(),
    adopting: new Map(),
    routing: new Map(),
    acks: new Map(),
    deferred: [],
    node: undefined,
    clock: undefined,
    stopped: false,
    lastRenewOk: 0,
    holdClaimsUntil: 0,
    ackSeq: 0,
  };
}

/** The runtime this adapter serves; throws before `attach`. */
export function attached(s: ClusterState): { node: ClusterNode; clock: Clock } {
  if (!s.node || !s.clock)
    throw new RedisClusterError('notAttached', 'redis cluster: not attached to a runtime yet');
  return { node: s.node, clock: s.clock };
}

export const nowOf = (s: ClusterState): number => attached(s).clock.now();

export const tracked = <T>(s: ClusterState, p: Promise<T>): Promise<T> =>
  s.clock ? trackWork(s.clock, p) : p;

export const logTo = (s: ClusterState, entry: LogEntry): void => s.node?.log(entry);

/** Leases may have lapsed for want of Redis, or Redis just came back: claim nothing now. */
export function holdingClaims(s: ClusterState): boolean {
  const now = nowOf(s);
  return now < s.holdClaimsUntil || now - s.lastRenewOk > s.leaseMs - s.renewMs;
}

export const errorText = (err: unknown): string | undefined => (err as Error)?.message;
