/**
 * A worker's senders open the database connections they will use before taking their first
 * job: the first burst after a start does not wait for new PostgreSQL backends.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { deliveryChannelsTask } from '../../src/jobs/tasks.js';
import { bullPrefix, QUEUES } from '../../src/queues/names.js';
import { startWorker, type RunningWorker } from '../../src/jobs/runtime.js';
import { useTestContext } from '../helpers/context.js';

const ctx = useTestContext();
let worker: RunningWorker | undefined;

afterAll(async () => {
  await worker?.close();
  for (const name of Object.values(QUEUES)) {
    const q = new Queue(name, { connection: ctx.redis, prefix: bullPrefix(ctx.redisPrefix, name) });
    await q.obliterate({ force: true });
    await q.close();
  }
});

describe('the senders at start', () => {
  it('have as many database connections open as they may use at once', async () => {
    const config = {
      ...loadConfig({ DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl, LOG_LEVEL: 'warn', DATABASE_POOL_MAX: '6', DELIVERY_CONCURRENCY: '50' }),
      QUEUE_PREFIX: ctx.redisPrefix, // test prefixes carry ':' that the variable's check refuses
    };
    worker = await startWorker(config, { tasks: [deliveryChannelsTask] });
    expect(worker.deps.pool.totalCount).toBe(6);
    const { rows } = await ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'slotwatch-worker' AND datname = current_database()`,
    );
    expect(rows[0]!.n).toBe(6);
  });
});
