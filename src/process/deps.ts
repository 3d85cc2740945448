/**
 * What a process makes once and hands to its edges (the HTTP app, the worker's tasks):
 * the configuration, one PostgreSQL pool, one Redis connection and the queues on it, the
 * logger, and the runtime settings.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { closeQueues, createQueues, type Queues } from '../queues/queues.js';
import { createRedis, type RedisConnection } from '../queues/redis.js';
import { SettingsCache } from '../settings/settings.js';
import type { HostLookup } from '../watches/push-endpoints.js';

export interface Deps {
  config: Config;
  pool: pg.Pool;
  /**
   * The web process's is a producer connection, which fails fast while Redis is away; a
   * worker's waits out outages (maxRetriesPerRequest: null), as BullMQ workers need.
   */
  redis: RedisConnection;
  queues: Queues;
  log: Logger;
  /** Runtime settings (system_config over environment defaults), re-read every few seconds. */
  settings: SettingsCache;
  /** Resolves push endpoint hosts (registration's check and the sender's); dns.lookup when unset. */
  lookupHost?: HostLookup;
}

/** The dependencies of a `web` or `worker` process. */
export function createDeps(config: Config, role: 'web' | 'worker', log: Logger): Deps {
  const pool = createPool(config.DATABASE_URL, { max: config.DATABASE_POOL_MAX, applicationName: `slotwatch-${role}` });
  const redis = createRedis(config.REDIS_URL, role === 'web' ? 'producer' : 'worker');
  return { config, pool, redis, queues: createQueues(redis, config.QUEUE_PREFIX, config.DELIVERY_SHARDS), log, settings: new SettingsCache(pool, config) };
}

/** Closes what createDeps opened, in reverse order. */
export async function closeDeps(deps: Deps): Promise<void> {
  await closeQueues(deps.queues);
  deps.redis.disconnect();
  await deps.pool.end();
}
