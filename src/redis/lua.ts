/**
 * The Lua scripts of the Redis cluster: every lease change happens in one of
 * them, so exactly one instance owns a call. Times are clock milliseconds
 * passed in by the caller (not Redis's), so leases work on simulated time.
 */
import { redisScript } from './script.js';

// KEYS: snapshots, owners, expiry. ARGV: id, instanceId, now, leaseMs, json.
export const SAVE = redisScript(`
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

// KEYS: snapshots, owners, expiry, pending list. ARGV: id, instanceId.
export const DELETE = redisScript(`
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] then return owner end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4])
return 1
`);

// Renew this instance's leases; report the ones I lost and the ones with queued notifications.
// KEYS: owners, expiry. ARGV: instanceId, expiresAt, pendingPrefix, ids...
export const RENEW = redisScript(`
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
// ARGV: instanceId, now, leaseMs, limit. Returns {id, json, id, json, ...}.
export const CLAIM = redisScript(`
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
// ARGV: id, instanceId, now, leaseMs, sealed batch, pendingTtlMs.
export const ROUTE = redisScript(`
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
export const DRAIN = redisScript(`
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items
`);

// Hand this instance's calls back: lease expired now, snapshots kept. KEYS: owners, expiry. ARGV: instanceId, ids...
export const RELEASE = redisScript(`
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
