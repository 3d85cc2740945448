/**
 * The hand-off to the deliveries queues: one job per alert on its channel's queue (jobId =
 * alert id, { alertId } only, priority by the user's tier), and the sweep that re-enqueues
 * alerts stranded by a worker killed between the alert commit and the enqueue.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { log } from '../../src/log.js';
import { drainReleases } from '../../src/alerts/match.js';
import { enqueueAlerts, SEND_JOB, sweepPendingAlerts, type ChannelQueues } from '../../src/alerts/deliveries.js';
import { bullPrefix } from '../../src/queues/names.js';
import { allQueues, closeQueues, createQueues, type Queues } from '../../src/queues/queues.js';
import { runFixture } from '../fixtures/child.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertSlot, insertUser, insertWatch } from '../helpers/factories.js';

const ctx = useTestContext();
const VAPID = webpush.generateVAPIDKeys();
let queues: Queues;
let channels: ChannelQueues;
let queuePrefix: string;

beforeAll(() => {
  queuePrefix = ctx.redisPrefix.replace(/[^A-Za-z0-9_-]/g, '_');
  queues = createQueues(ctx.redis, queuePrefix);
  channels = queues.deliveries;
});
afterAll(async () => {
  // the queue's keys are {prefix}:..., outside the ctx's key prefix: remove them here
  for (const q of allQueues(queues)) await q.obliterate({ force: true });
  await closeQueues(queues);
});

/** Every live job on both deliveries queues, with the queue it is on. */
async function deliveryJobs() {
  const jobs = await Promise.all(
    (['email', 'push'] as const).map(async (channel) =>
      (await channels[channel][0]!.getJobs(['prioritized', 'waiting', 'delayed', 'active'])).map((j) => ({
        id: j.id,
        queue: channel,
        name: j.name,
        data: j.data as unknown,
        priority: j.opts.priority,
      })),
    ),
  );
  return jobs.flat().sort((x, y) => String(x.id).localeCompare(String(y.id)));
}

async function alertsByTier() {
  const { rows } = await ctx.pool.query<{ id: string; userId: string; priority: string; channel: 'email' | 'push'; enqueued: boolean }>(
    `SELECT a.id, a.user_id AS "userId", u.priority::text AS priority, a.channel::text AS channel, a.enqueued_at IS NOT NULL AS enqueued
       FROM user_alerts a JOIN users u ON u.id = a.user_id ORDER BY a.id`,
  );
  return rows;
}

const tier = { URGENT: 1, VIP: 2, NORMAL: 3 } as Record<string, number>;
const obliterateAll = () => Promise.all(Object.values(channels).flat().map((q) => q.obliterate({ force: true })));

describe('hand-off to the deliveries queues', () => {
  it('enqueues one job per new alert after the commit, on its channel, by tier, with ids only', async () => {
    const { id: centerId } = await insertCenter(ctx.pool);
    for (const [priority, method] of [['NORMAL', 'email'], ['VIP', 'push'], ['URGENT', 'email']] as const) {
      const u = await insertUser(ctx.pool, { priority });
      await insertWatch(ctx.pool, { userId: u.id, method });
    }
    await insertSlot(ctx.pool, { centerId });
    // with VAPID keys a push watch's alert goes to the push queue
    const config = loadConfig({ DATABASE_URL: ctx.databaseUrl, QUEUE_PREFIX: queuePrefix, VAPID_PUBLIC_KEY: VAPID.publicKey, VAPID_PRIVATE_KEY: VAPID.privateKey });
    expect(await drainReleases({ pool: ctx.pool, queues, config, log })).toEqual({ releases: 1, alerts: 3 });

    const alerts = await alertsByTier();
    expect(alerts.every((a) => a.enqueued)).toBe(true);
    expect(alerts.map((a) => [a.priority, a.channel]).sort()).toEqual([['NORMAL', 'email'], ['URGENT', 'email'], ['VIP', 'push']]);
    expect(await deliveryJobs()).toEqual(alerts.map((a) => ({ id: a.id, queue: a.channel, name: SEND_JOB, data: { alertId: a.id }, priority: tier[a.priority] })));
    // handing the same alerts over again adds nothing while their jobs exist
    await enqueueAlerts(channels, ctx.pool, alerts.map((a) => ({ id: a.id, userId: a.userId, priority: a.priority as 'NORMAL', channel: a.channel })), true);
    expect(await deliveryJobs()).toHaveLength(3);
    await obliterateAll();
    // without VAPID keys every alert starts on the email queue
    await enqueueAlerts(channels, ctx.pool, alerts.map((a) => ({ id: a.id, userId: a.userId, priority: a.priority as 'NORMAL', channel: a.channel })), false);
    expect((await deliveryJobs()).map((j) => j.queue)).toEqual(['email', 'email', 'email']);
    await obliterateAll();
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
    expect(await sweepPendingAlerts(channels, ctx.pool, opts, true)).toBe(0);
    // past it, it hands them over
    expect(await sweepPendingAlerts(channels, ctx.pool, { ...opts, graceSeconds: 0 }, true)).toBe(2);
    expect(await deliveryJobs()).toEqual(stranded.map((a) => ({ id: a.id, queue: 'email', name: SEND_JOB, data: { alertId: a.id }, priority: tier[a.priority] })));
    expect((await alertsByTier()).every((a) => a.enqueued)).toBe(true);
    // and once handed over they are not swept again until the requeue period has passed
    expect(await sweepPendingAlerts(channels, ctx.pool, { ...opts, graceSeconds: 0 }, true)).toBe(0);
  });

  it('re-enqueues a PENDING alert whose job is gone (Redis lost it, or it completed and was removed)', async () => {
    await ctx.pool.query(`UPDATE user_alerts SET enqueued_at = now() - interval '2 hours'`);
    const pending = await alertsByTier();
    expect(pending.length).toBeGreaterThan(0);
    await obliterateAll();
    expect(await sweepPendingAlerts(channels, ctx.pool, { graceSeconds: 60, requeueSeconds: 3600, limit: 100 }, true)).toBe(pending.length);
    expect((await deliveryJobs()).map((j) => j.id)).toEqual(pending.map((a) => a.id));

    // a job that failed for good on infrastructure (kept by BullMQ under the alert's id) is replaced, not left to block it
    const [first] = pending;
    await obliterateAll();
    await channels.email[0]!.add(SEND_JOB, { alertId: first!.id }, { jobId: first!.id });
    const connection = ctx.redis.duplicate({ maxRetriesPerRequest: null });
    const failing = new Worker(channels.email[0]!.name, () => Promise.reject(new UnrecoverableError('database away')), { connection, prefix: bullPrefix(queuePrefix, channels.email[0]!.name) });
    await expect.poll(() => channels.email[0]!.getJobState(first!.id)).toBe('failed');
    await failing.close();
    connection.disconnect();
    await ctx.pool.query(`UPDATE user_alerts SET enqueued_at = now() - interval '2 hours'`);
    expect(await sweepPendingAlerts(channels, ctx.pool, { graceSeconds: 60, requeueSeconds: 3600, limit: 100 }, true)).toBe(pending.length);
    expect(await channels.email[0]!.getJobState(first!.id)).toBe('prioritized');

    // a delivered one is never swept
    await ctx.pool.query(`UPDATE user_alerts SET status = 'SENT', sent = true, sent_at = now(), enqueued_at = now() - interval '2 hours'`);
    expect(await sweepPendingAlerts(channels, ctx.pool, { graceSeconds: 0, requeueSeconds: 60, limit: 100 }, true)).toBe(0);
  });
});

