/**
 * Each channel has its own BullMQ rate limiter (its own queue): over the limit, sends wait
 * their turn and none is dropped.
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
let smtp: SmtpReceiver;
let pushService: PushReceiver;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  pushService = await startPushReceiver(vapid.publicKey);
  h = await startHarness(
    testConfig(ctx, {
      SMTP_URL: smtp.url,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      PUSH_ALLOW_LOCAL_ENDPOINTS: 'true',
      PUBLIC_BASE_URL: LOCAL_BASE_URL,
      DELIVERY_EMAIL_PER_SECOND: '2',
      DELIVERY_PUSH_PER_SECOND: '1000',
    }),
  );
});

afterAll(async () => {
  await h?.close();
  await pushService?.close();
  await smtp?.close();
});

describe('the per-channel rate limit', () => {
  it('spreads emails over the limit across seconds and delivers every one, pushes alongside', async () => {
    const emails = await Promise.all(Array.from({ length: 6 }, () => insertAlert(ctx.pool)));
    const pushes = await Promise.all(Array.from({ length: 6 }, () => insertAlert(ctx.pool, { method: 'push' })));
    for (const p of pushes) {
      const s = pushService.subscribe();
      await saveSubscription(ctx.pool, p.userId, { endpoint: s.endpoint, p256dh: s.keys.p256dh, auth: s.keys.auth });
    }
    for (const a of [...emails, ...pushes]) await enqueue(h.producer, a);

    for (const a of [...emails, ...pushes]) expect((await waitForAlert(ctx.pool, a.alertId, finished)).status).toBe('SENT');
    expect(smtp.messages).toHaveLength(6);
    expect(pushService.delivered()).toHaveLength(6);
    // 2 a second: six emails need three one-second windows. The first may go at the end of
    // the first window and the last at the start of the third, so more than one second
    // separates them: a lower bound the limiter guarantees, however slow the machine
    const times = smtp.messages.map((m) => m.receivedAt).sort((x, y) => x - y);
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(1000);
  });
});
