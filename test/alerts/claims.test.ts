/**
 * Claims and their leases: a sender that died mid-send leaves a SENDING claim; it is
 * retaken once the lease runs out, by the job itself or by the expired-claims sweep, and
 * a live claim is never taken over. A claim whose routing failed before anything was sent
 * is given back at once.
 */
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { batchedAlertStore } from '../../src/alerts/batched-store.js';
import { sweepPendingAlerts, type ChannelQueues } from '../../src/alerts/deliveries.js';
import { requeueExpiredClaims } from '../../src/alerts/senders.js';
import { deliveryChannelsTask } from '../../src/jobs/tasks.js';
import { createMailer, type Mailer } from '../../src/alerts/email.js';
import { retryWaker } from '../../src/alerts/retry-wake.js';
import { sendProcessor, type SendContext } from '../../src/alerts/send-processor.js';
import { createPool } from '../../src/db/pool.js';
import { log } from '../../src/log.js';
import { useTestContext } from '../helpers/context.js';
import { startCuttableProxy } from '../helpers/cuttable-proxy.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { alertRow, enqueue, finished, insertAlert, startHarness, testConfig, until, waitForAlert, type Harness } from './fixtures.js';

const ctx = useTestContext();
let smtp: SmtpReceiver;
let h: Harness;
let channels: ChannelQueues;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  h = await startHarness(testConfig(ctx, { SMTP_URL: smtp.url }));
  channels = h.worker.deps.queues.deliveries;
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const mailsTo = (email: string) => smtp.messages.filter((m) => m.envelopeTo.includes(email));

describe('a SENDING claim', () => {
  it('that is still leased is left alone: the job waits for the lease, then retakes it and sends once', async () => {
    const a = await insertAlert(ctx.pool);
    await ctx.pool.query(
      `UPDATE user_alerts SET status = 'SENDING', attempts = 1, channel = 'email', lease_until = now() + interval '1.5 seconds' WHERE id = $1`,
      [a.alertId],
    );
    await enqueue(h.producer, a);
    await until(async () => (await channels.email[0]!.getJobState(a.alertId)) === 'delayed', 'the send job to wait for the lease');
    expect(await alertRow(ctx.pool, a.alertId)).toMatchObject({ status: 'SENDING', attempts: 1 });
    expect(mailsTo(a.email)).toHaveLength(0);
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(mailsTo(a.email)).toHaveLength(1);
  });

  it('whose lease ran out with no job behind it is re-queued by the sweep and sent once', async () => {
    const a = await insertAlert(ctx.pool);
    const b = await insertAlert(ctx.pool); // leased: not the sweep's
    await ctx.pool.query(`UPDATE user_alerts SET status = 'SENDING', attempts = 1, channel = 'email', lease_until = now() - interval '1 second' WHERE id = $1`, [a.alertId]);
    await ctx.pool.query(`UPDATE user_alerts SET status = 'SENDING', attempts = 1, channel = 'email', lease_until = now() + interval '1 hour' WHERE id = $1`, [b.alertId]);
    expect(await requeueExpiredClaims(h.worker.deps, channels)).toBe(1);
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(mailsTo(a.email)).toHaveLength(1);
    // nothing left to retake: the sent one is finished, the other is still leased
    expect(await requeueExpiredClaims(h.worker.deps, channels)).toBe(0);
    expect(await alertRow(ctx.pool, b.alertId)).toMatchObject({ status: 'SENDING', attempts: 1 });
    expect(mailsTo(b.email)).toHaveLength(0);
  });

  it('is swept by the scheduled maintenance task the worker runs', async () => {
    expect(deliveryChannelsTask.everyMs(h.worker.deps.config, await h.worker.deps.settings.all())).toBe(h.worker.deps.config.DELIVERY_LEASE_SECONDS * 1000);
    const a = await insertAlert(ctx.pool);
    await ctx.pool.query(`UPDATE user_alerts SET status = 'SENDING', attempts = 1, channel = 'email', lease_until = now() - interval '1 second' WHERE id = $1`, [a.alertId]);
    // run the schedule's job now rather than wait a lease period for it
    await h.producer.maintenance.add(deliveryChannelsTask.name, {});
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(mailsTo(a.email)).toHaveLength(1);
  });

  it('is not blocked by an earlier send job of the same alert that failed on infrastructure', async () => {
    const a = await insertAlert(ctx.pool);
    // a send job with the alert's id that can only fail (its payload is unusable)
    await channels.email[0]!.add('send', { alertId: 'not-a-uuid' }, { jobId: a.alertId });
    await until(async () => (await channels.email[0]!.getJobState(a.alertId)) === 'failed', 'the broken send job to fail');
    expect(await alertRow(ctx.pool, a.alertId)).toMatchObject({ status: 'PENDING', attempts: 0 });
    // a first hand-off is ignored while that job is kept; the pending-alert sweep replaces it
    await enqueue(h.producer, a);
    expect(await channels.email[0]!.getJobState(a.alertId)).toBe('failed');
    expect(await sweepPendingAlerts(channels, ctx.pool, { graceSeconds: 0, requeueSeconds: 0, limit: 10 }, false)).toBe(1);
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', attempts: 1 });
    expect(mailsTo(a.email)).toHaveLength(1);
  });
});

describe('a claim whose send is under way', () => {
  // the channel queue's processor on its own, driven with a job as BullMQ would hand it over
  function sendDeps(mailer: Mailer, store = batchedAlertStore(ctx.pool, h.worker.deps.config.DELIVERY_LEASE_SECONDS)): SendContext {
    return { config: h.worker.deps.config, pool: ctx.pool, log, mailer, push: null, channelQueues: channels, store, waker: retryWaker(channels, ctx.redis, log) };
  }
  const jobFor = (alertId: string) => ({ id: alertId, data: { alertId }, queueName: 'deliveries-email', opts: {} }) as unknown as Job;

  it('keeps its lease while a slow send runs, so it is not retaken and sent twice', async () => {
    const a = await insertAlert(ctx.pool);
    const real = createMailer(h.worker.deps.config, log);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const slow: Mailer = {
      async send(m) {
        started = true;
        await gate; // the SMTP server is taking its time
        return real.send(m);
      },
      close: () => real.close(),
    };
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const running = sendProcessor(sendDeps(slow), 'email')(jobFor(a.alertId), 'token');
      await until(() => started, 'the send to start');
      // the lease nearly run out, as it would be after most of a minute
      await ctx.pool.query(`UPDATE user_alerts SET lease_until = now() + interval '2 seconds' WHERE id = $1`, [a.alertId]);
      vi.advanceTimersByTime((h.worker.deps.config.DELIVERY_LEASE_SECONDS * 1000) / 3);
      await until(async () => (await alertRow(ctx.pool, a.alertId)).lease_until!.getTime() > Date.now() + 30_000, 'the lease to be renewed');
      release();
      expect(await running).toMatchObject({ outcome: 'SENT' });
    } finally {
      vi.useRealTimers();
      real.close();
    }
    expect(await alertRow(ctx.pool, a.alertId)).toMatchObject({ status: 'SENT', attempts: 1, lease_until: null });
    expect(mailsTo(a.email)).toHaveLength(1);
  });

  it('that went out is recorded again, not sent again, when the database fails the first record', async () => {
    const a = await insertAlert(ctx.pool);
    const mailer = createMailer(h.worker.deps.config, log);
    const store = batchedAlertStore(ctx.pool, h.worker.deps.config.DELIVERY_LEASE_SECONDS);
    let failures = 0;
    const flaky = {
      ...store,
      markSent: (mark: Parameters<typeof store.markSent>[0]) => (failures++ === 0 ? Promise.reject(new Error('Connection terminated unexpectedly')) : store.markSent(mark)),
    };
    try {
      expect(await sendProcessor(sendDeps(mailer, flaky), 'email')(jobFor(a.alertId), 'token')).toMatchObject({ outcome: 'SENT' });
    } finally {
      mailer.close();
    }
    expect(failures).toBe(2);
    expect(await alertRow(ctx.pool, a.alertId)).toMatchObject({ status: 'SENT', attempts: 1 });
    expect(mailsTo(a.email)).toHaveLength(1);
  });

  it('whose routing fails (the database away after the claim) is given back at once, not left to its lease', async () => {
    const a = await insertAlert(ctx.pool);
    // the claim goes through the working pool; routing and the release through a cut link
    const server = new URL(ctx.databaseUrl);
    const proxy = await startCuttableProxy({ host: server.hostname, port: Number(server.port || 5432) });
    server.hostname = '127.0.0.1';
    server.port = String(proxy.port);
    const cutPool = createPool(server.toString(), { max: 2 });
    const mailer = createMailer(h.worker.deps.config, log);
    try {
      await proxy.cut();
      const restored = new Promise((r) => setTimeout(r, 700)).then(() => proxy.restore());
      const err = await sendProcessor({ ...sendDeps(mailer), pool: cutPool }, 'email')(jobFor(a.alertId), 'token').catch((e: unknown) => e);
      await restored;
      expect(String(err)).toMatch(/ECONNREFUSED|Connection terminated/);
    } finally {
      mailer.close();
      await cutPool.end();
      await proxy.close();
    }
    // claimed once, nothing sent, and free for the job's retry to take again now
    expect(await alertRow(ctx.pool, a.alertId)).toMatchObject({ status: 'PENDING', attempts: 1, lease_until: null });
    expect(mailsTo(a.email)).toHaveLength(0);
  });
});
