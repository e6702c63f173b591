/**
 * The real redis-server the cluster tests run against: GCM_REDIS_URL, by
 * default the one .ci/run starts on loopback port 6399. Missing Redis is a
 * failure with instructions, never a skip.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.GCM_REDIS_URL ?? 'redis://127.0.0.1:6399';

export async function connectRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => {}); // surfaced by the commands themselves
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `The cluster tests need Redis at ${REDIS_URL} and cannot reach it (${(err as Error).message}). ` +
        "Install the Debian package redis-server and start it: redis-server --port 6399 --bind 127.0.0.1 --save '' " +
        '--appendonly no --daemonize yes (.ci/run does this), or set GCM_REDIS_URL.',
    );
  }
  return redis;
}

/** A key prefix no other test (or run) uses. */
export const testPrefix = (name: string) => `gcm-test:${name}:${randomBytes(4).toString('hex')}:`;

/** Delete every key under `prefix`; returns how many there were. */
export async function dropKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) n += await redis.del(...keys);
  } while (cursor !== '0');
  return n;
}
