import { MetricsTime, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Settings } from '../settings/definitions.js';
import type { SettingsCache } from '../settings/settings.js';
import type { Queues } from '../queues/queues.js';

/** What a processor may use: everything is created once per process by the worker entry. */
export interface Deps {
  config: Config;
  pool: pg.Pool;
  queues: Queues;
  /** A worker-role Redis connection (maxRetriesPerRequest: null). */
  redis: Redis;
  log: Logger;
  /** Runtime settings (system_config over environment defaults), re-read every few seconds. */
  settings: SettingsCache;
}

/**
 * A piece of scheduled upkeep run on the maintenance queue. The worker keeps one BullMQ
 * job scheduler per task (id = name, so several worker processes upsert the same one) and
 * dispatches jobs to `run` by name.
 */
export interface MaintenanceTask {
  name: string;
  /** Milliseconds between runs; re-evaluated as settings change, and the schedule follows. */
  everyMs(config: Config, settings: Settings): number;
  run(deps: Deps, job: Job): Promise<unknown>;
  /** Optional: started with the worker (e.g. a LISTEN that wakes the task early); returns a stop function. */
  start?(deps: Deps): Promise<() => Promise<void>>;
}

/** Every worker's metrics option: per-minute completed/failed counts kept in Redis by BullMQ, read by GET /metrics. */
export const workerMetrics = { maxDataPoints: MetricsTime.ONE_WEEK };
