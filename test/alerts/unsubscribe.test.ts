/**
 * One-click unsubscribe end to end: an alert email arrives at a real SMTP server, its
 * List-Unsubscribe address is posted to the HTTP app as a mail client would (RFC 8058),
 * and that watch, only that one, stops producing messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { insertCenter, insertSlot, insertWatch } from '../helpers/factories.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { BASE_URL, alertRow, enqueue, finished, insertAlert, startHarness, testConfig, waitForAlert, type Harness } from './fixtures.js';

const t = useTestApp();
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  h = await startHarness(testConfig(t.ctx, { SMTP_URL: smtp.url }));
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const isActive = async (watchId: string) =>
  (await t.ctx.pool.query<{ is_active: boolean }>(`SELECT is_active FROM user_preferences WHERE id = $1`, [watchId])).rows[0]!.is_active;

describe('one-click unsubscribe', () => {
  it('switches off exactly the watch named in the email, with no login, and later alerts for it are skipped', async () => {
    const a = await insertAlert(t.ctx.pool);
    const otherWatch = await insertWatch(t.ctx.pool, { userId: a.userId });
    await enqueue(h.producer, a);
    await smtp.waitForCount(1);
    const mail = smtp.messages.find((m) => m.envelopeTo.includes(a.email))!;
    const header = mail.parsed.headerLines.find((l) => l.key === 'list-unsubscribe')!.line;
    const url = new URL(/<([^>]+)>/.exec(header)![1]!);
    expect(url.origin).toBe(BASE_URL);

    // a link scanner's GET changes nothing
    const shown = await t.app.inject({ method: 'GET', url: url.pathname });
    expect(shown.statusCode).toBe(200);
    expect(shown.headers['content-type']).toMatch(/text\/html/);
    expect(shown.body).toContain(`action="${url.pathname}"`);
    expect(await isActive(a.watchId)).toBe(true);

    // what Gmail and others send for List-Unsubscribe-Post
    const done = await t.app.inject({
      method: 'POST',
      url: url.pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('Unsubscribed');
    expect(await isActive(a.watchId)).toBe(false);
    expect(await isActive(otherWatch.id)).toBe(true);

    // again, and as multipart: harmless
    const again = await t.app.inject({
      method: 'POST',
      url: url.pathname,
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      payload: '--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--\r\n',
    });
    expect(again.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: url.pathname })).body).toContain('Already unsubscribed');

    // a new slot for the same watch: no message
    const center = await insertCenter(t.ctx.pool);
    const slot = await insertSlot(t.ctx.pool, { centerId: center.id });
    const { rows } = await t.ctx.pool.query<{ id: string }>(
      `INSERT INTO user_alerts (user_id, slot_id, preference_id) VALUES ($1, $2, $3) RETURNING id`,
      [a.userId, slot.id, a.watchId],
    );
    const later = rows[0]!.id;
    await enqueue(h.producer, { alertId: later, userId: a.userId, method: 'email' });
    expect(await waitForAlert(t.ctx.pool, later, finished)).toMatchObject({ status: 'SKIPPED', last_error: 'watch is inactive' });
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(1);
    expect((await alertRow(t.ctx.pool, a.alertId)).status).toBe('SENT');
  });

  it('answers an unknown or malformed token with 404 and changes nothing', async () => {
    const a = await insertAlert(t.ctx.pool);
    for (const path of ['/unsubscribe/' + 'f'.repeat(64), '/unsubscribe/not-a-token', "/unsubscribe/'%3Cscript%3E"]) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await t.app.inject({ method, url: path, ...(method === 'POST' ? { payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
        expect(res.statusCode, `${method} ${path}`).toBe(404);
        expect(res.body).not.toContain('<script>');
      }
    }
    expect(await isActive(a.watchId)).toBe(true);
  });
});
