/**
 * GET /api/me/export end to end: everything held about the caller, as a JSON attachment,
 * by bearer token or by the pages' cookie, and nothing of anyone else's.
 */
import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { matchReleaseBatch } from '../../src/alerts/match.js';
import { recordAudit } from '../../src/audit/audit.js';
import { EXPORT_LIMIT_PER_MINUTE } from '../../src/http/api/privacy.js';
import { resolveAsPublic, sessionCookieOf, useTestApp } from '../helpers/app.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

const vapid = webpush.generateVAPIDKeys();
const t = useTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey }, { lookupHost: resolveAsPublic });
useCheapHashes(t);
const PASSWORD = 'a long and private passphrase';

describe('GET /api/me/export', () => {
  it('gives the caller everything held about them as a JSON file, and nothing of anyone else', async () => {
    const pool = t.ctx.pool;
    const email = `export-${randomBytes(4).toString('hex')}@export-test.example`;
    const me = await createUser(pool, { email, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT', firstName: 'Ada', lastName: 'Lovelace' });
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } });
    const as = { authorization: `Bearer ${login.json().token}` };
    const other = await t.signedIn();
    const asOther = { authorization: `Bearer ${other.token}` };

    const centre = await insertCenter(pool, { latitude: 53.4, longitude: -2.2 });
    const watch = { location: { latitude: 53.4, longitude: -2.2 }, radiusMiles: 5, method: 'email', testTypes: ['practical'], label: 'Home' };
    expect((await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: as, payload: watch })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: asOther, payload: { ...watch, label: 'Not yours' } })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'PUT', url: '/api/me/quiet-hours', headers: as, payload: { quietHours: { start: '22:00', end: '07:00' } } })).statusCode).toBe(200);
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
    const endpoint = `https://push.example.net/wpush/${randomBytes(12).toString('base64url')}`;
    expect((await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: as, payload: { endpoint, keys } })).statusCode).toBe(201);
    const slot = await insertSlot(pool, { centerId: centre.id, start: new Date(Date.now() + 4 * 86_400_000) });
    await matchReleaseBatch(pool, 100);
    // the alert went out in a message, as the sender records one
    const message = await pool.query<{ id: string }>(
      `INSERT INTO alert_messages (user_id, kind, status, channel, attempts, sent_at) VALUES ($1, 'single', 'SENT', 'email', 1, now()) RETURNING id`,
      [me.id],
    );
    const messageId = message.rows[0]!.id;
    await pool.query(`UPDATE user_alerts SET message_id = $1, status = 'SENT', sent = true, channel = 'email', sent_at = now() WHERE user_id = $2`, [messageId, me.id]);
    await pool.query(
      `INSERT INTO alert_messages (user_id, kind, status) SELECT id, 'single', 'PENDING' FROM users WHERE email = $1`,
      [other.email],
    );
    const held = await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: as });
    const appointmentId = held.json().appointment.id;
    await t.app.inject({ method: 'POST', url: `/api/appointments/${appointmentId}/cancel`, headers: as });
    const admin = await t.signedIn('ADMIN');
    await recordAudit(pool, { userId: admin.id, action: 'support.note', entityType: 'user', entityId: me.id, details: { note: 'called us' }, ip: '198.51.100.7' });

    const res = await t.app.inject({ method: 'GET', url: '/api/me/export', headers: as });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="slotwatch-data-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(res.headers['cache-control']).toBe('no-store');
    const data = res.json();
    expect(data.account).toMatchObject({ id: me.id, email, firstName: 'Ada', lastName: 'Lovelace', role: 'CLIENT', isActive: true, quietHours: { start: '22:00', end: '07:00' } });
    expect(data.watches.map((w: { label: string }) => w.label)).toEqual(['Home']);
    expect(data.pushSubscriptions).toEqual([expect.objectContaining({ endpoint, keys, isActive: true })]);
    expect(data.alerts).toEqual([expect.objectContaining({ slotId: slot.id, status: 'SENT', channel: 'email', distanceMiles: 0, messageId })]);
    expect(data.alertMessages).toEqual([expect.objectContaining({ id: messageId, kind: 'single', status: 'SENT', channel: 'email', attempts: 1 })]);
    expect(data.appointments).toHaveLength(1);
    expect(data.appointments[0]).toMatchObject({ id: appointmentId, status: 'CANCELLED', slot: { center: { id: centre.id } } });
    expect(data.appointments[0].events.map((e: { type: string }) => e.type)).toEqual(['HOLD_PLACED', 'CANCELLED']);
    expect(data.sessions).toEqual([expect.objectContaining({ revokedAt: null, ip: '127.0.0.1' })]);
    const actions = data.auditEntries.map((e: { action: string; by: string; ip: string | null }) => [e.action, e.by, e.ip]);
    expect(actions).toEqual([
      ['appointment.hold', 'you', '127.0.0.1'],
      ['appointment.cancel', 'you', '127.0.0.1'],
      // staff's own address is theirs, not the learner's
      ['support.note', 'someone else', null],
    ]);
    expect(res.body).not.toContain(other.email);
    expect(res.body).not.toContain('Not yours');

    // the pages' cookie works too (a plain link downloads it)
    const session = await t.app.inject({ method: 'POST', url: '/api/web/session', payload: { email, password: PASSWORD } });
    const cookie = sessionCookieOf(session);
    const byCookie = await t.app.inject({ method: 'GET', url: '/api/me/export', headers: { cookie } });
    expect(byCookie.statusCode).toBe(200);
    expect(byCookie.json().account.email).toBe(email);
    expect((await t.app.inject({ method: 'GET', url: '/api/me/export' })).statusCode).toBe(401);
  });

  it('is limited per account, as each export reads everything the learner has', async () => {
    const me = await t.signedIn();
    const as = t.auth(me.token);
    for (let i = 0; i < EXPORT_LIMIT_PER_MINUTE; i++) expect((await t.app.inject({ method: 'GET', url: '/api/me/export', headers: as })).statusCode).toBe(200);
    const refused = await t.app.inject({ method: 'GET', url: '/api/me/export', headers: as });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // someone else's count is their own
    const other = await t.signedIn();
    expect((await t.app.inject({ method: 'GET', url: '/api/me/export', headers: t.auth(other.token) })).statusCode).toBe(200);
  });
});
