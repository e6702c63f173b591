/**
 * The public face of the Redis cluster adapter: its options (checked where
 * given), its error, its counters and the adapter type.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { ClusterAdapter } from '../ports/cluster.js';
import { parseRecordingTokenKey, type RecordingTokenKey } from '../ports/recording-token-key.js';
import { checkPrefix } from './script.js';

export interface RedisClusterOptions {
  /** An ioredis client for commands; the adapter opens one more (`duplicate()`) for pub/sub. */
  redis: Redis;
  /** 32 random bytes shared by all instances (base64 or hex string, or bytes): seals tokens. */
  recordingTokenKey?: RecordingTokenKey;
  /** @deprecated Renamed `recordingTokenKey`; this alias goes in the next minor version. */
  tokenKey?: RecordingTokenKey;
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

/** The options with their defaults, checked. */
export interface ClusterSettings {
  instanceId: string;
  prefix: string;
  leaseMs: number;
  renewMs: number;
  claimBatch: number;
  ackTimeoutMs: number;
  pendingTtlMs: number;
}

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n <= 0)
    throw new RedisClusterError(
      'invalidOptions',
      `createRedisCluster: ${name} must be a positive integer (ms)`,
    );
  return n;
}

/** Throws RedisClusterError (or SealError for the key) naming the option that is wrong. */
export function checkClusterOptions(options: RedisClusterOptions): ClusterSettings {
  const { redis } = options;
  if (!redis || typeof redis.evalsha !== 'function' || typeof redis.duplicate !== 'function')
    throw new RedisClusterError('invalidOptions', 'createRedisCluster: `redis` must be an ioredis client');
  // Checked here so a bad key fails at creation; the runtime seals with it.
  parseRecordingTokenKey(options.recordingTokenKey ?? (options.tokenKey as RecordingTokenKey));
  const prefix = checkPrefix(options.prefix, 'gcm:');
  const instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (typeof instanceId !== 'string' || !/^[\w.:-]{1,100}$/.test(instanceId))
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
  return {
    instanceId,
    prefix,
    leaseMs,
    renewMs,
    claimBatch: positiveInt('claimBatch', options.claimBatch, 100),
    ackTimeoutMs: positiveInt('ackTimeoutMs', options.ackTimeoutMs, 5_000),
    pendingTtlMs: positiveInt('pendingTtlMs', options.pendingTtlMs, 3_600_000),
  };
}
