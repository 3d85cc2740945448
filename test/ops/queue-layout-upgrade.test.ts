/**
 * Upgrading from the layout where every queue shared one hash tag (`{prefix}:deliveries-email:…`)
 * to a tag per queue (`{prefix:deliveries-email}:…`): a job queued under the old keys is in
 * no queue the new worker reads. The worker finds no job schedule at start and queues what
 * PostgreSQL says is owed, so the learner is told at once, not when the pending-alert sweep
 * would find the alert (ALERT_REQUEUE_SECONDS, 15 minutes by default), and told once.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { channelJobOptions, SEND_JOB } from '../../src/alerts/deliveries.js';
import { finished, insertAlert, startHarnessWithAllTasks, testConfig, waitForAlert, type Harness } from '../alerts/fixtures.js';
import { useTestContext } from '../helpers/context.js';

const ctx = useTestContext();
let smtp: SmtpReceiver;
let h: Harness | undefined;
let oldQueue: Queue | undefined;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
});
afterAll(async () => {
  await h?.close();
  await oldQueue?.obliterate({ force: true });
  await oldQueue?.close();
  await smtp?.close();
});

describe('a worker started on queues of the old key layout', () => {
  it('queues the alerts whose jobs are under the old keys again at start, and each is sent once', async () => {
    const a = await insertAlert(ctx.pool, { method: 'email' });
    // handed over by the earlier version: marked enqueued, its job under the old, shared hash tag
    oldQueue = new Queue('deliveries-email', { connection: ctx.redis, prefix: `{${ctx.redisPrefix}}` });
    await oldQueue.add(SEND_JOB, { alertId: a.alertId }, channelJobOptions(a.alertId, 3));
    await ctx.pool.query(`UPDATE user_alerts SET enqueued_at = now() WHERE id = $1`, [a.alertId]);

    // the sweep would wait 15 minutes for an enqueued alert: the default stands
    h = await startHarnessWithAllTasks(testConfig(ctx, { SMTP_URL: smtp.url, RELEASE_POLL_SECONDS: '1' }));
    expect(h.worker.deps.config.ALERT_REQUEUE_SECONDS).toBe(900);
    expect(await waitForAlert(ctx.pool, a.alertId, finished, 20_000)).toMatchObject({ status: 'SENT' });
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(1);
    // the old job is still there, read by nobody: the README says how to delete the old keys
    expect(await oldQueue.getJobState(a.alertId)).not.toBe('unknown');
  });
});
