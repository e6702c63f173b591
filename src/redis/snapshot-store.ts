/**
 * SnapshotStore on Redis for ONE bot instance that must survive restarts:
 * one hash, call id -> snapshot JSON. Several instances sharing calls need
 * ownership on top of that: use createRedisCluster (src/redis/cluster.ts).
 */
import type { Redis } from 'ioredis';
import { SnapshotStoreError } from '../ports/errors.js';
import type { SnapshotStore } from '../ports/stores.js';
import { checkPrefix } from './script.js';

export interface RedisSnapshotStoreOptions {
  /** An ioredis client (the store never closes it). */
  redis: Redis;
  /** Key prefix (default `gcm:`); the hash is `<prefix>snapshots`. */
  prefix?: string;
}

function unavailable(what: string, err: unknown): SnapshotStoreError {
  return new SnapshotStoreError(
    'unavailable',
    `redis snapshot store: ${what} failed: ${(err as Error)?.message}`,
    {
      cause: err,
    },
  );
}

export function createRedisSnapshotStore(options: RedisSnapshotStoreOptions): SnapshotStore {
  const { redis } = options;
  if (!redis || typeof redis.hset !== 'function')
    throw new TypeError('createRedisSnapshotStore: `redis` must be an ioredis client');
  const hash = `${checkPrefix(options.prefix, 'gcm:')}snapshots`;
  return {
    async save(callId, json) {
      try {
        await redis.hset(hash, callId, json);
      } catch (err) {
        throw unavailable('save', err);
      }
    },
    async loadAll() {
      try {
        const all = await redis.hgetall(hash);
        return Object.entries(all).map(([callId, json]) => ({ callId, json }));
      } catch (err) {
        throw unavailable('load', err);
      }
    },
    async delete(callId) {
      try {
        await redis.hdel(hash, callId);
      } catch (err) {
        throw unavailable('delete', err);
      }
    },
    async close() {},
  };
}
