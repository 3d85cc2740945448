/**
 * Web push end to end: the real worker posts to a real HTTP push endpoint in this
 * process, which verifies the VAPID JWT and decrypts each message with the
 * subscription's private key (RFC 8291) before it counts it.
 */
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSubscription } from '../../src/watches/push-subscriptions.js';
import { useTestContext } from '../helpers/context.js';
import { startPushReceiver, type PushReceiver, type TestSubscription } from '../../dev/push-receiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { LOCAL_BASE_URL, enqueue, finished, insertAlert, startHarness, testConfig, waitForAlert, type Harness } from './fixtures.js';

const ctx = useTestContext();
const vapid = webpush.generateVAPIDKeys();
let pushService: PushReceiver;
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  pushService = await startPushReceiver(vapid.publicKey);
  smtp = await startSmtpReceiver();
  h = await startHarness(
    testConfig(ctx, {
      SMTP_URL: smtp.url,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:ops@slotwatch.test',
      DELIVERY_PUSH_TTL_SECONDS: '600',
      PUSH_ALLOW_LOCAL_ENDPOINTS: 'true', // the receiver in this test speaks plain http on loopback
      PUBLIC_BASE_URL: LOCAL_BASE_URL,
    }),
  );
});

afterAll(async () => {
  await h?.close();
  await pushService?.close();
  await smtp?.close();
});

async function subscribe(userId: string): Promise<TestSubscription & { rowId: string }> {
  const s = pushService.subscribe();
  const { id } = await saveSubscription(ctx.pool, userId, { endpoint: s.endpoint, p256dh: s.keys.p256dh, auth: s.keys.auth });
  return { ...s, rowId: id };
}

const requestsFor = (s: TestSubscription) => pushService.requests.filter((r) => r.subscriptionId === s.id);
const deliveredTo = (s: TestSubscription) => requestsFor(s).filter((r) => r.status === 201);
const isActive = async (rowId: string) =>
  (await ctx.pool.query<{ is_active: boolean }>(`SELECT is_active FROM push_subscriptions WHERE id = $1`, [rowId])).rows[0]!.is_active;

describe('a push alert', () => {
  it('reaches every live subscription of the user once, signed, encrypted, with TTL, Urgency high and a topic per slot', async () => {
    const a = await insertAlert(ctx.pool, { method: 'push', start: new Date('2031-01-14T09:30:00Z'), distanceM: 1609.344 * 4 });
    const phone = await subscribe(a.userId);
    const laptop = await subscribe(a.userId);
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);

    expect(row).toMatchObject({ status: 'SENT', sent: true, channel: 'push', attempts: 1 });
    for (const s of [phone, laptop]) {
      const got = requestsFor(s);
      expect(got).toHaveLength(1);
      const r = got[0]!;
      expect(r.vapid).toMatchObject({ valid: true, aud: pushService.origin, sub: 'mailto:ops@slotwatch.test' });
      expect(r.payload).toEqual({
        title: `Test slot free: ${a.centerName}`,
        body: 'Tuesday 14 January 2031 at 09:30, 4.0 miles away. Tap to hold it.',
        url: `${LOCAL_BASE_URL}/slots/${a.slotId}`,
        slotId: a.slotId,
        alertsUrl: `${LOCAL_BASE_URL}/alerts`,
      });
      expect(r.ttl).toBe('600');
      expect(r.urgency).toBe('high');
      expect(r.topic).toBe(a.slotId.replace(/-/g, ''));
    }
    expect(row.provider_message_id).toMatch(new RegExp(`^${pushService.origin}/message/`));
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(0);
  });

  it('switches off exactly the subscription the push service says is gone (404, 410) and still delivers to the others', async () => {
    const a = await insertAlert(ctx.pool, { method: 'push' });
    const gone404 = await subscribe(a.userId);
    const gone410 = await subscribe(a.userId);
    const live = await subscribe(a.userId);
    pushService.script(gone404.id, [{ status: 404 }]);
    pushService.script(gone410.id, [{ status: 410 }]);
    await enqueue(h.producer, a);
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', channel: 'push', attempts: 1 });
    expect(await isActive(gone404.rowId)).toBe(false);
    expect(await isActive(gone410.rowId)).toBe(false);
    expect(await isActive(live.rowId)).toBe(true);
    expect(deliveredTo(live)).toHaveLength(1);
    const { rows } = await ctx.pool.query<{ failure_reason: string }>(`SELECT failure_reason FROM push_subscriptions WHERE id = $1`, [gone410.rowId]);
    expect(rows[0]!.failure_reason).toBe('push service answered 410');
  });

  it('falls back to email when the only subscription is gone', async () => {
    const a = await insertAlert(ctx.pool, { method: 'push' });
    const only = await subscribe(a.userId);
    pushService.script(only.id, [{ status: 410 }]);
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);
    expect(row).toMatchObject({ status: 'SENT', channel: 'email' });
    expect(await isActive(only.rowId)).toBe(false);
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(1);
  });

  it('goes by email when a push watch has no live subscription', async () => {
    const a = await insertAlert(ctx.pool, { method: 'push' });
    await enqueue(h.producer, a);
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', channel: 'email', attempts: 1 });
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(1);
  });

  it('retries 429 (not before its Retry-After) and 500, then delivers exactly once', async () => {
    const a = await insertAlert(ctx.pool, { method: 'push' });
    const s = await subscribe(a.userId);
    pushService.script(s.id, [{ status: 429, headers: { 'retry-after': '1' } }, { status: 500 }, { status: 503 }]);
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);
    expect(row).toMatchObject({ status: 'SENT', channel: 'push', attempts: 4 });
    const got = requestsFor(s);
    expect(got.map((r) => r.status)).toEqual([429, 500, 503, 201]);
    expect(got[1]!.receivedAt - got[0]!.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(await isActive(s.rowId)).toBe(true);
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(0);
  });

  it('marks the alert FAILED (no retry) and the subscription off when the subscription is malformed', async () => {
    const a = await insertAlert(ctx.pool, { method: 'push' });
    // passes the table's format check but is no P-256 point: encryption cannot work, ever
    const { id } = await saveSubscription(ctx.pool, a.userId, { endpoint: `${pushService.origin}/push/nobody`, p256dh: 'A'.repeat(40), auth: 'B'.repeat(22) });
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);
    expect(row).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(row.last_error).toMatch(/malformed subscription/);
    expect(await isActive(id)).toBe(false);
  });
});
