/**
 * What a process makes once and hands to its edges (the HTTP app, the worker's tasks):
 * the configuration, one PostgreSQL pool, one Redis connection and the queues on it, the
 * logger, and the runtime settings.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { ReplicaReads } from '../db/read-pool.js';
import type { Queryable } from '../db/types.js';
import { closeQueues, createQueues, type Queues } from '../queues/queues.js';
import { createRedis, type RedisConnection } from '../queues/redis.js';
import { SettingsCache } from '../settings/settings.js';
import type { HostLookup } from '../watches/push-endpoints.js';

export interface Deps {
  config: Config;
  pool: pg.Pool;
  /**
   * For reads that may be a little old: slot search, the watches' coverage counts, the
   * metrics scrape. `pool` itself unless DATABASE_READ_URL names another server; then that
   * replica, falling back to `pool` while it cannot answer (db/read-pool.ts). Never for what
   * writes, claims, or must see a write just made.
   */
  readPool: Queryable;
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
  const poolOptions = { max: config.DATABASE_POOL_MAX, applicationName: `slotwatch-${role}`, namedStatements: config.DATABASE_NAMED_STATEMENTS };
  const pool = createPool(config.DATABASE_URL, poolOptions);
  const readPool =
    config.DATABASE_READ_URL === config.DATABASE_URL
      ? pool
      : new ReplicaReads(createPool(config.DATABASE_READ_URL, { ...poolOptions, applicationName: `slotwatch-${role}-read`, connectTimeoutMs: 2_000 }), pool, log);
  const redis = createRedis(config.REDIS_URL, role === 'web' ? 'producer' : 'worker');
  return { config, pool, readPool, redis, queues: createQueues(redis, config.QUEUE_PREFIX, config.DELIVERY_SHARDS), log, settings: new SettingsCache(pool, config) };
}

/** Closes what createDeps opened, in reverse order. */
export async function closeDeps(deps: Deps): Promise<void> {
  await closeQueues(deps.queues);
  deps.redis.disconnect();
  if (deps.readPool instanceof ReplicaReads) await deps.readPool.end();
  await deps.pool.end();
}
