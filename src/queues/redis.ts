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
