/**
 * Email delivery end to end: the real worker sends through nodemailer to a real SMTP
 * server (smtp-server) in this process, which parses what it receives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestContext } from '../helpers/context.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { BASE_URL, alertRow, enqueue, finished, insertAlert, startHarness, testConfig, until, waitForAlert, type Harness } from './fixtures.js';

const ctx = useTestContext();
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  h = await startHarness(testConfig(ctx, { SMTP_URL: smtp.url, MAIL_FROM: 'slotwatch <alerts@slotwatch.test>' }));
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const to = (address: string) => smtp.messages.filter((m) => m.envelopeTo.includes(address));

describe('an email alert', () => {
  it('arrives once, naming centre, test type, London date and time, distance, with a hold link and one-click unsubscribe headers', async () => {
    // 08:30 UTC in July is 09:30 in London (BST)
    const a = await insertAlert(ctx.pool, { start: new Date('2031-07-15T08:30:00Z'), distanceM: 5149.9 });
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);

    expect(row).toMatchObject({ status: 'SENT', sent: true, channel: 'email', attempts: 1, last_error: null, lease_until: null });
    expect(row.sent_at).toBeInstanceOf(Date);
    const mails = to(a.email);
    expect(mails).toHaveLength(1);
    const m = mails[0]!;
    expect(row.provider_message_id).toBe(m.queueId);
    expect(m.parsed.to && !Array.isArray(m.parsed.to) ? m.parsed.to.value[0]!.address : null).toBe(a.email);
    expect(m.parsed.from?.value[0]?.address).toBe('alerts@slotwatch.test');
    expect(m.parsed.subject).toBe(`Test slot free: ${a.centerName}, Tuesday 15 July 2031 at 09:30`);
    expect(m.parsed.messageId).toBe(`<alert-${a.alertId}@slotwatch.test>`);

    const holdLink = `${BASE_URL}/slots/${a.slotId}`;
    const text = m.parsed.text ?? '';
    for (const s of [a.centerName, 'practical driving test', 'Tuesday 15 July 2031', '09:30', '3.2 miles away', holdLink, 'Hello Sam']) {
      expect(text).toContain(s);
    }
    const html = typeof m.parsed.html === 'string' ? m.parsed.html : '';
    for (const s of [a.centerName, 'practical driving test', 'Tuesday 15 July 2031', '09:30', '3.2 miles away', `href="${holdLink}"`]) {
      expect(html).toContain(s);
    }

    const { rows } = await ctx.pool.query<{ unsubscribe_token: string }>(`SELECT unsubscribe_token FROM user_preferences WHERE id = $1`, [a.watchId]);
    const unsubscribe = `${BASE_URL}/unsubscribe/${rows[0]!.unsubscribe_token}`;
    // the raw header lines: mailparser folds List-* headers into its own `list` structure
    const header = (key: string) => m.parsed.headerLines.find((l) => l.key === key)?.line ?? '';
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(header('list-unsubscribe')).toContain(`<${unsubscribe}>`);
    expect(text).toContain(unsubscribe);
  });

  it('is not sent, and is SKIPPED, when the slot was booked between match and send', async () => {
    const a = await insertAlert(ctx.pool);
    await ctx.pool.query(`UPDATE time_slots SET status = 'BOOKED' WHERE id = $1`, [a.slotId]);
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);
    expect(row).toMatchObject({ status: 'SKIPPED', sent: false, sent_at: null, attempts: 0, last_error: 'slot is BOOKED' });
    expect(to(a.email)).toHaveLength(0);
  });

  it('is SKIPPED when the watch or the user is no longer active', async () => {
    const a = await insertAlert(ctx.pool);
    const b = await insertAlert(ctx.pool);
    await ctx.pool.query(`UPDATE user_preferences SET is_active = false WHERE id = $1`, [a.watchId]);
    await ctx.pool.query(`UPDATE users SET is_active = false WHERE id = $1`, [b.userId]);
    await enqueue(h.producer, a);
    await enqueue(h.producer, b);
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SKIPPED', last_error: 'watch is inactive' });
    expect(await waitForAlert(ctx.pool, b.alertId, finished)).toMatchObject({ status: 'SKIPPED', last_error: 'user is inactive' });
    expect(to(a.email)).toHaveLength(0);
    expect(to(b.email)).toHaveLength(0);
  });

  it('is sent once even when the job is enqueued twice or run again after it was sent', async () => {
    const a = await insertAlert(ctx.pool);
    await enqueue(h.producer, a);
    await enqueue(h.producer, a); // same jobId: ignored while the first is known
    await waitForAlert(ctx.pool, a.alertId, finished);
    // a later hand-off (e.g. a sweep after the first job was removed) finds it SENT
    await h.producer.deliveries.email[0]!.add('send', { alertId: a.alertId }, { jobId: `${a.alertId}-again` });
    await until(async () => (await h.producer.deliveries.email[0]!.getJobState(`${a.alertId}-again`)) === 'completed', 'second job to complete');
    expect(to(a.email)).toHaveLength(1);
    expect((await alertRow(ctx.pool, a.alertId)).attempts).toBe(1);
  });

  it('retakes a claim whose sender died mid-send once its lease has run out', async () => {
    const a = await insertAlert(ctx.pool);
    await ctx.pool.query(
      `UPDATE user_alerts SET status = 'SENDING', attempts = 1, channel = 'email', lease_until = now() - interval '1 second' WHERE id = $1`,
      [a.alertId],
    );
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);
    expect(row).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(to(a.email)).toHaveLength(1);
  });

  it('fails for good, without retrying, when the server refuses the address with 5xx', async () => {
    const a = await insertAlert(ctx.pool, { email: `nobody-${Date.now()}@refused.example.com` });
    smtp.setMode({ kind: 'reject-rcpt', match: /@refused\.example\.com$/, code: 550 });
    try {
      await enqueue(h.producer, a);
      const row = await waitForAlert(ctx.pool, a.alertId, finished);
      expect(row).toMatchObject({ status: 'FAILED', sent: false, attempts: 1 });
      expect(row.last_error).toMatch(/550/);
      await until(async () => (await h.worker.deps.queues.deliveries.email[0]!.getJobState(a.alertId)) === 'failed', 'the send job to fail for good');
    } finally {
      smtp.setMode({ kind: 'accept' });
    }
    expect(to(a.email)).toHaveLength(0);
  });
});

describe('an SMTP outage', () => {
  it('loses nothing: refused connections, then 421, then every alert arrives exactly once', async () => {
    const alerts = await Promise.all(Array.from({ length: 6 }, () => insertAlert(ctx.pool)));
    await smtp.stop(); // connection refused
    try {
      for (const a of alerts) await enqueue(h.producer, a);
      const allFailedWith = (pattern: RegExp) => async () => {
        const rows = await Promise.all(alerts.map((a) => alertRow(ctx.pool, a.alertId)));
        return rows.every((r) => r.status !== 'SENT' && pattern.test(r.last_error ?? ''));
      };
      await until(allFailedWith(/ECONNREFUSED|ESOCKET|ECONNECTION/), 'every alert to meet a refused connection');
      smtp.setMode({ kind: 'refuse-connect', code: 421 });
      await smtp.start();
      await until(allFailedWith(/421/), 'every alert to meet a 421');
      for (const a of alerts) expect(to(a.email)).toHaveLength(0);
    } finally {
      smtp.setMode({ kind: 'accept' });
      if (!smtp.listening) await smtp.start();
    }
    for (const a of alerts) {
      const row = await waitForAlert(ctx.pool, a.alertId, finished);
      expect(row.status).toBe('SENT');
      expect(row.attempts).toBeGreaterThanOrEqual(3);
      expect(to(a.email)).toHaveLength(1);
    }
  });
});
