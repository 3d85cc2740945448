/**
 * A Redis that restarts without persistence (as this machine's runs) comes back with no
 * keys: no job schedules, no heartbeats. The worker that was running puts its schedules
 * back by itself within one recheck, so holds expire again and /readyz's heartbeats
 * return, with no worker restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startWorker, type RunningWorker } from '../../src/jobs/runtime.js';
import { expireHoldsTask } from '../../src/jobs/tasks.js';
import { lastHeartbeat } from '../../src/queues/heartbeat.js';
import { createRedis } from '../../src/queues/redis.js';
import { futureSlots } from '../booking/helpers.js';
import { useTestContext } from '../helpers/context.js';
import { insertAppointment, insertUser } from '../helpers/factories.js';
import { startOwnRedis } from '../helpers/redis-server.js';

const ctx = useTestContext();
const redisServer = await startOwnRedis();
let worker: RunningWorker | undefined;
afterAll(async () => {
  await worker?.close();
  await redisServer.stop();
});

const until = async (what: () => Promise<boolean>) => {
  // the test's own timeout bounds the wait
  while (!(await what().catch(() => false))) await new Promise((r) => setTimeout(r, 200));
};

describe('a worker whose Redis restarted empty', () => {
  it('upserts its job schedules again, so holds expire and heartbeats return without a restart', { timeout: 30_000 }, async () => {
    const config = { ...loadConfig({ DATABASE_URL: ctx.databaseUrl, REDIS_URL: redisServer.url, HOLD_SWEEP_SECONDS: '1', LOG_LEVEL: 'silent' }), QUEUE_PREFIX: ctx.redisPrefix };
    worker = await startWorker(config, { tasks: [expireHoldsTask] });
    // queues its commands while Redis is away, rather than failing them
    const probe = createRedis(redisServer.url, 'worker');
    try {
      const schedules = async () => (await worker!.deps.queues.maintenance.getJobSchedulers()).map((s) => s.key);
      expect(await schedules()).toEqual(['expire-holds']);
      await until(async () => (await lastHeartbeat(probe, config.QUEUE_PREFIX, 'expire-holds')) !== null);

      // killed and started again with no persistence: every key is gone
      await redisServer.stop();
      await redisServer.start();

      // without the recheck these never come back, and the test's timeout fails it
      await until(async () => (await schedules()).includes('expire-holds'));
      await until(async () => (await lastHeartbeat(probe, config.QUEUE_PREFIX, 'expire-holds')) !== null);

      // and the schedule does its work: an expired hold is released
      const { slots } = await futureSlots(ctx.pool, 1);
      const user = await insertUser(ctx.pool);
      await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = $1`, [slots[0]!.id]);
      const expired = await insertAppointment(ctx.pool, { userId: user.id, slotId: slots[0]!.id, expiresAt: new Date(Date.now() - 1000) });
      await until(async () => (await ctx.pool.query(`SELECT status FROM appointments WHERE id = $1`, [expired.id])).rows[0].status === 'CANCELLED');
    } finally {
      probe.disconnect();
    }
  });
});
