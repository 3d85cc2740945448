import { Redis, type RedisOptions } from 'ioredis';
import { log } from '../log.js';

/**
 * A Redis connection for one role. Workers block on Redis and must wait out outages
 * (`maxRetriesPerRequest: null`, as BullMQ requires); producers on a request path fail
 * fast instead of queueing commands while Redis is away. rediss:// URLs get TLS from ioredis.
 */
export function createRedis(url: string, role: 'worker' | 'producer', options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    ...(role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
    ...options,
  });
  redis.on('error', (err) => log.warn({ err, role }, 'Redis connection error'));
  return redis;
}

/**
 * Deletes every key matching a glob pattern, walking the keyspace with SCAN (not KEYS) so
 * that a large one is taken in pieces without blocking Redis. Returns how many went.
 */
export async function deleteKeysMatching(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

/**
 * Deletes every key of one QUEUE_PREFIX: BullMQ's (`{prefix}:...`) and the rate-limit
 * counters (`prefix:rl:...`). For tools that run under a throwaway prefix (the demo, the
 * benchmarks) and must leave nothing behind.
 */
export async function deleteQueuePrefixKeys(redis: Redis, queuePrefix: string): Promise<number> {
  return (await deleteKeysMatching(redis, `{${queuePrefix}}:*`)) + (await deleteKeysMatching(redis, `${queuePrefix}:*`));
}
