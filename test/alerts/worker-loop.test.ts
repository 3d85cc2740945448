/**
 * The alert loop as the worker runs it: the 'poll-releases' task LISTENs on
 * 'slot_released', so a release is matched and handed to the deliveries queue without
 * waiting for the schedule (set to an hour here), and after the listener's connection
 * is killed it reconnects and is woken again.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { log } from '../../src/log.js';
import { pollReleasesTask, sweepPendingAlertsTask } from '../../src/jobs/tasks.js';
import { bullPrefix, QUEUES } from '../../src/queues/names.js';
import { startWorker, type RunningWorker } from '../../src/jobs/runtime.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertSlot, insertUser, insertWatch } from '../helpers/factories.js';

const ctx = useTestContext();
let worker: RunningWorker | undefined;

// the listener's expected warning when its connection is killed below is not news here
const level = log.level;
log.level = 'error';

afterAll(async () => {
  log.level = level;
  await worker?.close();
  for (const name of Object.values(QUEUES)) {
    const q = new Queue(name, { connection: ctx.redis, prefix: bullPrefix(ctx.redisPrefix, name) });
    await q.obliterate({ force: true });
    await q.close();
  }
});

async function alertsFor(slotId: string) {
  const { rows } = await ctx.pool.query<{ id: string; enqueued: boolean }>(
    `SELECT id, enqueued_at IS NOT NULL AS enqueued FROM user_alerts WHERE slot_id = $1`,
    [slotId],
  );
  return rows;
}

describe('the poll-releases task in a running worker', () => {
  it('matches a release as soon as it is notified, and again after its connection is killed', async () => {
    const config = {
      ...loadConfig({ DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl, LOG_LEVEL: 'warn', RELEASE_POLL_SECONDS: '3600', ALERT_SWEEP_SECONDS: '3600' }),
      QUEUE_PREFIX: ctx.redisPrefix, // test prefixes carry ':' that the variable's check refuses
    };
    const { id: centerId } = await insertCenter(ctx.pool);
    const user = await insertUser(ctx.pool);
    await insertWatch(ctx.pool, { userId: user.id });
    worker = await startWorker(config, { tasks: [pollReleasesTask, sweepPendingAlertsTask] });
    const deliveries = new Queue('deliveries-email', { connection: ctx.redis, prefix: bullPrefix(ctx.redisPrefix, 'deliveries-email') });
    try {
      // the first scheduled run and the listener's first wake-up find nothing; wait for the LISTEN
      await expect
        .poll(async () => (await ctx.pool.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'slotwatch-release-listener' AND datname = current_database()`)).rowCount, { timeout: 20_000 })
        .toBe(1);
      const first = await insertSlot(ctx.pool, { centerId });
      await expect.poll(async () => (await alertsFor(first.id)).filter((a) => a.enqueued).length, { timeout: 20_000 }).toBe(1);
      const [alert] = await alertsFor(first.id);
      expect((await deliveries.getJob(alert!.id))?.data).toEqual({ alertId: alert!.id });

      // kill the listener's connection: it reconnects, and the next release is still matched at once
      await ctx.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'slotwatch-release-listener' AND datname = current_database()`,
      );
      await expect
        .poll(async () => (await ctx.pool.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'slotwatch-release-listener' AND datname = current_database()`)).rowCount, { timeout: 20_000 })
        .toBe(1);
      const second = await insertSlot(ctx.pool, { centerId });
      await expect.poll(async () => (await alertsFor(second.id)).filter((a) => a.enqueued).length, { timeout: 20_000 }).toBe(1);
    } finally {
      await deliveries.close();
    }
  });
});
