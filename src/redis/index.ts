// `graph-call-machines/redis`: the Redis adapters (need the optional peer dependency `ioredis`).
export {
  createRedisCluster,
  type RedisCluster,
  RedisClusterError,
  type RedisClusterOptions,
  type RedisClusterStats,
} from './cluster.js';
export { createRedisSnapshotStore, type RedisSnapshotStoreOptions } from './snapshot-store.js';
