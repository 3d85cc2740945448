/**
 * The channel is chosen when the message is sent: a watch switched from push to email (or
 * back) after its alert was queued is honoured. Real worker, real SMTP and push receivers.
 */
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSubscription } from '../../src/watches/push-subscriptions.js';
import { useTestContext } from '../helpers/context.js';
import { startPushReceiver, type PushReceiver } from '../../dev/push-receiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { enqueue, finished, insertAlert, LOCAL_BASE_URL, startHarness, testConfig, waitForAlert, type Harness } from './fixtures.js';

const ctx = useTestContext();
const vapid = webpush.generateVAPIDKeys();
let pushService: PushReceiver;
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  pushService = await startPushReceiver(vapid.publicKey);
  smtp = await startSmtpReceiver();
  h = await startHarness(
    testConfig(ctx, { SMTP_URL: smtp.url, VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_LOCAL_ENDPOINTS: 'true', PUBLIC_BASE_URL: LOCAL_BASE_URL }),
  );
});

afterAll(async () => {
  await h?.close();
  await pushService?.close();
  await smtp?.close();
});

async function subscribe(userId: string) {
  const s = pushService.subscribe();
  await saveSubscription(ctx.pool, userId, { endpoint: s.endpoint, p256dh: s.keys.p256dh, auth: s.keys.auth });
  return s;
}

describe('the channel at send time', () => {
  it('a push alert whose watch now asks for email goes by email', async () => {
    const a = await insertAlert(ctx.pool, { method: 'push' });
    const device = await subscribe(a.userId);
    await ctx.pool.query(`UPDATE user_preferences SET notification_method = 'email' WHERE id = $1`, [a.watchId]);
    await enqueue(h.producer, a); // queued for push, as matching queued it
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', channel: 'email' });
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(1);
    expect(pushService.requests.filter((r) => r.subscriptionId === device.id)).toHaveLength(0);
  });

  it('an email alert whose watch now asks for push goes by push', async () => {
    const a = await insertAlert(ctx.pool, { method: 'email' });
    const device = await subscribe(a.userId);
    await ctx.pool.query(`UPDATE user_preferences SET notification_method = 'push' WHERE id = $1`, [a.watchId]);
    await enqueue(h.producer, a); // queued for email
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', channel: 'push' });
    expect(pushService.delivered().filter((r) => r.subscriptionId === device.id)).toHaveLength(1);
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(0);
  });
});
