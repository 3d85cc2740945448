/**
 * The hand-off to the deliveries queue: one job per alert (jobId = alert id, { alertId }
 * only, priority by the user's tier), and the sweep that re-enqueues alerts stranded by a
 * worker killed between the alert commit and the enqueue.
 */
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { log } from '../../src/log.js';
import { drainReleases } from '../../src/matching/drain.js';
import { DELIVER_JOB, enqueueAlerts } from '../../src/matching/handoff.js';
import { sweepPendingAlerts } from '../../src/matching/sweep-pending.js';
import { closeQueues, createQueues, type Queues } from '../../src/queues/queues.js';
import { runFixture } from '../fixtures/child.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertSlot, insertUser, insertWatch } from '../helpers/factories.js';

const ctx = useTestContext();
let queues: Queues;
let queuePrefix: string;

beforeAll(() => {
  queuePrefix = ctx.redisPrefix.replace(/[^A-Za-z0-9_-]/g, '_');
  queues = createQueues(ctx.redis, queuePrefix);
});
afterAll(async () => {
  // the queue's keys are {prefix}:..., outside the ctx's key prefix: remove them here
  for (const q of Object.values(queues) as Queue[]) await q.obliterate({ force: true });
  await closeQueues(queues);
});

async function deliveryJobs() {
  const jobs = await queues.deliveries.getJobs(['prioritized', 'waiting', 'delayed', 'active']);
  return jobs
    .map((j) => ({ id: j.id, name: j.name, data: j.data as unknown, priority: j.opts.priority, attempts: j.opts.attempts }))
    .sort((x, y) => String(x.id).localeCompare(String(y.id)));
}

async function alertsByTier() {
  const { rows } = await ctx.pool.query<{ id: string; priority: string; enqueued: boolean }>(
    `SELECT a.id, u.priority::text AS priority, a.enqueued_at IS NOT NULL AS enqueued
       FROM user_alerts a JOIN users u ON u.id = a.user_id ORDER BY a.id`,
  );
  return rows;
}

describe('hand-off to the deliveries queue', () => {
  it('enqueues one job per new alert after the commit, by tier, with ids only', async () => {
    const { id: centerId } = await insertCenter(ctx.pool);
    for (const priority of ['NORMAL', 'VIP', 'URGENT']) {
      const u = await insertUser(ctx.pool, { priority });
      await insertWatch(ctx.pool, { userId: u.id });
    }
    await insertSlot(ctx.pool, { centerId });
    const config = loadConfig({ DATABASE_URL: ctx.databaseUrl, QUEUE_PREFIX: queuePrefix });
    expect(await drainReleases({ pool: ctx.pool, queues, config, log })).toEqual({ releases: 1, alerts: 3 });

    const alerts = await alertsByTier();
    expect(alerts.every((a) => a.enqueued)).toBe(true);
    const tier = { URGENT: 1, VIP: 2, NORMAL: 3 } as Record<string, number>;
    expect(await deliveryJobs()).toEqual(
      alerts.map((a) => ({ id: a.id, name: DELIVER_JOB, data: { alertId: a.id }, priority: tier[a.priority], attempts: 6 })),
    );
    // handing the same alerts over again adds nothing while their jobs exist
    await enqueueAlerts(queues.deliveries, ctx.pool, alerts.map((a) => ({ id: a.id, priority: a.priority as 'NORMAL' })));
    expect(await deliveryJobs()).toHaveLength(3);
    await queues.deliveries.obliterate({ force: true });
    await ctx.pool.query(`DELETE FROM user_alerts`);
  });

  it('loses nothing when the worker is SIGKILLed between the alert commit and the enqueue', async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: 53.48, longitude: -2.24 });
    for (const priority of ['NORMAL', 'URGENT']) {
      const u = await insertUser(ctx.pool, { priority });
      await insertWatch(ctx.pool, { userId: u.id, latitude: 53.5, longitude: -2.2 });
    }
    await insertSlot(ctx.pool, { centerId });

    const child = runFixture('match-worker.ts', {
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: queuePrefix,
      MODE: 'crash-after-commit',
    });
    expect(await child.waitFor('committed')).toBe('committed 2');
    child.proc.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');

    const stranded = await alertsByTier();
    expect(stranded.map((a) => a.enqueued)).toEqual([false, false]);
    expect(await deliveryJobs()).toEqual([]);

    // within the grace period the sweep leaves them be (the enqueue may still be coming)
    const opts = { graceSeconds: 3600, requeueSeconds: 3600, limit: 100 };
    expect(await sweepPendingAlerts(queues.deliveries, ctx.pool, opts)).toBe(0);
    // past it, it hands them over
    expect(await sweepPendingAlerts(queues.deliveries, ctx.pool, { ...opts, graceSeconds: 0 })).toBe(2);
    const tier = { URGENT: 1, VIP: 2, NORMAL: 3 } as Record<string, number>;
    expect(await deliveryJobs()).toEqual(
      stranded.map((a) => ({ id: a.id, name: DELIVER_JOB, data: { alertId: a.id }, priority: tier[a.priority], attempts: 6 })),
    );
    expect((await alertsByTier()).every((a) => a.enqueued)).toBe(true);
    // and once handed over they are not swept again until the requeue period has passed
    expect(await sweepPendingAlerts(queues.deliveries, ctx.pool, { ...opts, graceSeconds: 0 })).toBe(0);
  });

  it('re-enqueues a PENDING alert whose job is gone (Redis lost it, or it completed and was removed)', async () => {
    await ctx.pool.query(`UPDATE user_alerts SET enqueued_at = now() - interval '2 hours'`);
    const pending = await alertsByTier();
    expect(pending.length).toBeGreaterThan(0);
    await queues.deliveries.obliterate({ force: true });
    expect(await sweepPendingAlerts(queues.deliveries, ctx.pool, { graceSeconds: 60, requeueSeconds: 3600, limit: 100 })).toBe(pending.length);
    expect((await deliveryJobs()).map((j) => j.id)).toEqual(pending.map((a) => a.id));
    // a delivered one is never swept
    await ctx.pool.query(`UPDATE user_alerts SET status = 'SENT', sent = true, sent_at = now(), enqueued_at = now() - interval '2 hours'`);
    expect(await sweepPendingAlerts(queues.deliveries, ctx.pool, { graceSeconds: 0, requeueSeconds: 60, limit: 100 })).toBe(0);
  });
});

