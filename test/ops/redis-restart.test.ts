/**
 * A Redis that restarts without persistence (as this machine's runs) comes back with no
 * keys: no job schedules, no heartbeats. The worker that was running puts its schedules
 * back by itself within one recheck, so holds expire again and /readyz's heartbeats
 * return, with no worker restart. And it queues again at once, from PostgreSQL, every
 * PENDING alert and digest, however recently they were handed over (the sweep alone would
 * wait ALERT_REQUEUE_SECONDS, 15 minutes, for an alert handed over just before).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { digestJobId } from '../../src/alerts/deliveries.js';
import { loadConfig } from '../../src/config.js';
import { startWorker, type RunningWorker } from '../../src/jobs/runtime.js';
import { expireHoldsTask, sweepPendingAlertsTask } from '../../src/jobs/tasks.js';
import { log } from '../../src/log.js';
import { lastHeartbeat } from '../../src/queues/heartbeat.js';
import { createRedis } from '../../src/queues/redis.js';
import { insertAlert, testConfig } from '../alerts/fixtures.js';
import { futureSlots } from '../booking/helpers.js';
import { useTestContext } from '../helpers/context.js';
import { insertAppointment, insertUser } from '../helpers/factories.js';
import { startProcess, stopProcess } from '../helpers/processes.js';
import { startOwnRedis } from '../../dev/redis-server.js';

const ctx = useTestContext();
log.level = 'silent'; // the worker logs through the root logger; its reconnect errors are expected here
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

  it('queues again at once every pending alert and digest, and only once', { timeout: 30_000 }, async () => {
    const config = testConfig(ctx, { REDIS_URL: redisServer.url });
    // handed over a moment ago, as far as PostgreSQL knows: the sweep would not look at it for 15 minutes
    const alert = await insertAlert(ctx.pool);
    await ctx.pool.query(`UPDATE user_alerts SET enqueued_at = now() WHERE id = $1`, [alert.alertId]);
    const learner = await insertUser(ctx.pool);
    const { rows } = await ctx.pool.query<{ id: string }>(
      `INSERT INTO alert_messages (user_id, kind, status, send_after, enqueued_at) VALUES ($1, 'digest', 'PENDING', now() + interval '1 hour', now()) RETURNING id`,
      [learner.id],
    );
    const digestJob = digestJobId(rows[0]!.id);
    const sent = await insertAlert(ctx.pool);
    await ctx.pool.query(`UPDATE user_alerts SET status = 'SENT', sent = true, sent_at = now() WHERE id = $1`, [sent.alertId]);

    // no senders: the jobs stay where the rebuild puts them
    await worker?.close();
    worker = await startWorker(config, { tasks: [sweepPendingAlertsTask] });
    const email = worker.deps.queues.deliveries.email[0]!;
    await email.add('send', { alertId: alert.alertId }, { jobId: alert.alertId });
    await redisServer.stop();
    await redisServer.start();

    // one recheck (5 s) later both are queued again; without the rebuild the test times out
    await until(async () => (await email.getJobState(alert.alertId)) !== 'unknown');
    await until(async () => (await email.getJobState(digestJob)) === 'delayed');
    expect(await email.getJobState(sent.alertId)).toBe('unknown');
    const jobs = await email.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
    expect(jobs.map((j) => j.id).sort()).toEqual([alert.alertId, digestJob].sort());
    const delayedUntil = (await email.getJob(digestJob))!;
    expect(delayedUntil.delay).toBeGreaterThan(50 * 60_000);
  });

  it('warns once, at start, when Redis may evict jobs to make room', { timeout: 90_000 }, async () => {
    const probe = createRedis(redisServer.url, 'worker');
    await probe.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    const p = startProcess('workers/worker.ts', ctx, { REDIS_URL: redisServer.url });
    try {
      await p.waitForLog('worker started', 60_000);
      const warnings = p.logs.filter((l) => l.level === 40 && String(l.msg).includes('maxmemory-policy noeviction'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ maxmemoryPolicy: 'allkeys-lru' });
    } finally {
      await stopProcess(p);
      await probe.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      probe.disconnect();
    }
  });
});
