/**
 * Lua scripts on an ioredis client without touching the client
 * (no defineCommand): EVALSHA, falling back to EVAL once when Redis does not
 * know the script yet (NOSCRIPT, e.g. after a restart or SCRIPT FLUSH).
 * Only a type import of ioredis: the user passes the client.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RedisScript {
  readonly sha: string;
  run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown>;
}

export function redisScript(source: string): RedisScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    sha,
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!String((err as Error)?.message ?? '').includes('NOSCRIPT')) throw err;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}

/** Key prefix check shared by the Redis adapters. */
export function checkPrefix(prefix: string | undefined, fallback: string): string {
  const p = prefix ?? fallback;
  if (typeof p !== 'string' || p.length === 0 || p.length > 100 || /\s/.test(p))
    throw new TypeError('Redis key prefix must be a non-empty string of at most 100 characters, no spaces');
  return p;
}
