/**
 * DELETE /api/me end to end against the real database: a learner with everything a learner
 * can have (sessions, watches, a push subscription, alerts, a hold, a booking, a past test,
 * an idempotency key, audit entries that quote their email and names) deletes the account.
 * Afterwards no row of any table, found through information_schema so that tables added
 * later are walked too, holds their email, either name or their user id; their slots are
 * released and another learner is alerted about them; the past test is kept, detached.
 */
import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { matchReleaseBatch } from '../../src/alerts/match.js';
import { recordAudit } from '../../src/audit/audit.js';
import type { Queryable } from '../../src/db/types.js';
import { sessionCookieOf, useTestApp } from '../helpers/app.js';
import { insertAppointment, insertCenter, insertSlot, insertWatch } from '../helpers/factories.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

const vapid = webpush.generateVAPIDKeys();
const t = useTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_LOCAL_ENDPOINTS: true });
useCheapHashes(t);
const PASSWORD = 'a long and private passphrase';
const days = (n: number) => new Date(Date.now() + n * 86_400_000);

/**
 * Every (table, column) of every schema whose rows hold one of `needles` (any letter case):
 * each row is read whole as text, so any column of any type is seen, and bytea columns are
 * searched for the needles' bytes as well.
 */
export async function rowsHolding(db: Queryable, needles: string[]): Promise<string[]> {
  const { rows: tables } = await db.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  const { rows: byteaColumns } = await db.query<{ schema: string; table: string; column: string }>(
    `SELECT table_schema AS schema, table_name AS table, column_name AS column FROM information_schema.columns
      WHERE data_type = 'bytea' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  const lowered = needles.map((n) => n.toLowerCase());
  const found: string[] = [];
  for (const { schema, name } of tables) {
    const table = `"${schema}"."${name}"`;
    const bytea = byteaColumns.filter((c) => c.schema === schema && c.table === name).map((c) => `"${c.column}"`);
    const byteaHits = bytea.map((c) => `OR EXISTS (SELECT FROM unnest($1::text[]) n WHERE position(convert_to(n, 'UTF8') IN t.${c}) > 0)`).join(' ');
    const { rows } = await db.query<{ row: string }>(
      `SELECT t::text AS row FROM ${table} t
        WHERE EXISTS (SELECT FROM unnest($1::text[]) n WHERE strpos(lower(t::text), n) > 0) ${byteaHits}
        LIMIT 5`,
      [lowered],
    );
    for (const r of rows) found.push(`${schema}.${name}: ${r.row.slice(0, 300)}`);
  }
  return found;
}

describe('DELETE /api/me', () => {
  const tag = randomBytes(4).toString('hex');
  const email = `Zephyrine.Quillfeather.${tag}@Erasure-Test.example`;
  const firstName = 'Zephyrine';
  const lastName = `Quillfeather`;
  let personId: string;
  let token: string;
  let centre: string;
  const slots: Record<'held' | 'booked' | 'past' | 'watched', string> = { held: '', booked: '', past: '', watched: '' };
  const appointments: Record<'held' | 'booked' | 'past', string> = { held: '', booked: '', past: '' };

  const as = (tok: string) => ({ authorization: `Bearer ${tok}` });

  beforeAll(async () => {
    const pool = t.ctx.pool;
    centre = (await insertCenter(pool, { name: 'Erasure Centre', latitude: 51.2, longitude: -1.1, postcode: 'RG1 1AA' })).id;
    const person = await createUser(pool, { email, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT', firstName, lastName });
    personId = person.id;
    // two sign-ins: two sessions, each with the address it came from
    token = (await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } })).json().token;
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: email.toLowerCase(), password: PASSWORD } })).statusCode).toBe(200);

    const watch = { location: { latitude: 51.2, longitude: -1.1 }, radiusMiles: 10, method: 'email', testTypes: ['practical', 'theory'], label: `${firstName}'s place` };
    expect((await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: as(token), payload: watch })).statusCode).toBe(201);
    const pushWatch = { ...watch, method: 'push', label: `${lastName} family` };
    expect((await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: as(token), payload: pushWatch })).statusCode).toBe(201);
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const sub = {
      endpoint: `https://push.example.net/wpush/${randomBytes(12).toString('base64url')}`,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    };
    expect((await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: { ...as(token), 'user-agent': `${firstName}'s phone` }, payload: sub })).statusCode).toBe(201);

    // slots released at the learner's centre: alerts for them
    // a theory test: one live booking per test type, and the practical one is booked below
    slots.held = (await insertSlot(pool, { centerId: centre, start: days(5), testType: 'theory' })).id;
    slots.booked = (await insertSlot(pool, { centerId: centre, start: days(6) })).id;
    slots.watched = (await insertSlot(pool, { centerId: centre, start: days(7) })).id;
    await matchReleaseBatch(pool, 100);
    // one of them gathered into a digest: the messages sent to them are theirs too
    await pool.query(
      `WITH m AS (INSERT INTO alert_messages (user_id, kind) VALUES ($1, 'digest') RETURNING id)
       UPDATE user_alerts SET status = 'DIGESTED', message_id = (SELECT id FROM m) WHERE user_id = $1 AND slot_id = $2`,
      [personId, slots.watched],
    );

    // a booking (held with an Idempotency-Key, then confirmed) and a live hold of another test type
    const booked = await t.app.inject({ method: 'POST', url: `/api/slots/${slots.booked}/hold`, headers: { ...as(token), 'idempotency-key': `key-${tag}` } });
    expect(booked.statusCode).toBe(201);
    appointments.booked = booked.json().appointment.id;
    expect((await t.app.inject({ method: 'POST', url: `/api/appointments/${appointments.booked}/confirm`, headers: as(token) })).statusCode).toBe(200);
    const held = await t.app.inject({ method: 'POST', url: `/api/slots/${slots.held}/hold`, headers: as(token) });
    expect(held.statusCode).toBe(201);
    appointments.held = held.json().appointment.id;

    // a test taken last week: the centre's record, to be kept
    slots.past = (await insertSlot(pool, { centerId: centre, start: days(-7), status: 'BOOKED' })).id;
    appointments.past = (await insertAppointment(pool, { userId: personId, slotId: slots.past, status: 'CONFIRMED' })).id;

    // audit entries that quote the person, as other parts of slotwatch may write them
    const staff = await t.signedIn('ADMIN');
    await recordAudit(pool, { userId: null, action: 'account.register', entityType: 'user', entityId: personId, details: { email, firstName, lastName } });
    await recordAudit(pool, { userId: personId, action: 'account.rename', entityType: 'user', entityId: personId, details: { to: `${firstName} ${lastName}` }, ip: '203.0.113.9' });
    await recordAudit(pool, { userId: staff.id, action: 'support.lookup', details: { query: email.toUpperCase(), reason: 'asked by phone' }, ip: '198.51.100.4' });
  });

  it('refuses a wrong password and a staff account, changing nothing', async () => {
    const before = await rowsHolding(t.ctx.pool, [email]);
    const wrong = await t.app.inject({ method: 'DELETE', url: '/api/me', headers: as(token), payload: { password: 'not my password' } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('WRONG_PASSWORD');
    const missing = await t.app.inject({ method: 'DELETE', url: '/api/me', headers: as(token), payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toContain('password');
    const staff = await t.signedIn('OPERATOR');
    const refused = await t.app.inject({ method: 'DELETE', url: '/api/me', headers: as(staff.token), payload: { password: 'anything' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
    expect(await rowsHolding(t.ctx.pool, [email])).toEqual(before);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: as(token) })).statusCode).toBe(200);
  });

  it('erases the person from every table, releases their slots, and keeps the past test without them', async () => {
    const pool = t.ctx.pool;
    expect((await rowsHolding(pool, [email, firstName, lastName, personId])).length).toBeGreaterThan(5);
    // another learner starts watching the same centre: the released slots are news to them
    const other = await t.signedIn();
    await insertWatch(pool, { userId: other.id, latitude: 51.21, longitude: -1.1, radiusMiles: 5, testTypes: ['practical', 'theory'] });

    const res = await t.app.inject({ method: 'DELETE', url: '/api/me', headers: as(token), payload: { password: PASSWORD } });
    expect(res.statusCode, res.body).toBe(204);

    expect(await rowsHolding(pool, [email, firstName, lastName, personId])).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: as(token) })).statusCode).toBe(401);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } });
    expect(login.statusCode).toBe(401);

    // the hold and the future booking cancelled, their slots free and announced as a cancel announces them
    const { rows: kept } = await pool.query(`SELECT id, user_id, status::text AS status FROM appointments WHERE id = ANY ($1::uuid[]) ORDER BY created_at`, [
      [appointments.booked, appointments.held, appointments.past],
    ]);
    expect(Object.fromEntries(kept.map((r) => [r.id, [r.user_id, r.status]]))).toEqual({
      [appointments.booked]: [null, 'CANCELLED'],
      [appointments.held]: [null, 'CANCELLED'],
      [appointments.past]: [null, 'CONFIRMED'],
    });
    const { rows: slotRows } = await pool.query(`SELECT id, status::text AS status FROM time_slots WHERE id = ANY ($1::uuid[])`, [[slots.held, slots.booked, slots.past]]);
    expect(Object.fromEntries(slotRows.map((r) => [r.id, r.status]))).toEqual({ [slots.held]: 'AVAILABLE', [slots.booked]: 'AVAILABLE', [slots.past]: 'BOOKED' });
    const { rows: releases } = await pool.query(`SELECT slot_id FROM slot_releases WHERE reason = 'cancelled' AND processed_at IS NULL ORDER BY slot_id`);
    expect(releases.map((r) => r.slot_id).sort()).toEqual([slots.held, slots.booked].sort());
    const { rows: events } = await pool.query(`SELECT event_type, actor, actor_user_id FROM appointment_events WHERE appointment_id = $1 ORDER BY id`, [appointments.held]);
    expect(events).toEqual([
      { event_type: 'HOLD_PLACED', actor: 'user', actor_user_id: null },
      { event_type: 'CANCELLED', actor: 'user', actor_user_id: null },
    ]);

    await matchReleaseBatch(pool, 100);
    const { rows: alerted } = await pool.query(`SELECT slot_id FROM user_alerts WHERE user_id = $1 ORDER BY slot_id`, [other.id]);
    expect(alerted.map((r) => r.slot_id).sort()).toEqual([slots.held, slots.booked].sort());

    // what happened is still there, naming nobody
    const { rows: audit } = await pool.query(`SELECT action, user_id, entity_id, details, host(ip) AS ip FROM audit_logs WHERE action IN ('account.register', 'account.rename', 'support.lookup', 'account.erase') ORDER BY id`);
    expect(audit).toEqual([
      { action: 'account.register', user_id: null, entity_id: null, details: { email: '[erased]', firstName: '[erased]', lastName: '[erased]' }, ip: null },
      { action: 'account.rename', user_id: null, entity_id: null, details: { to: '[erased]' }, ip: null },
      { action: 'support.lookup', user_id: expect.any(String), entity_id: null, details: { query: '[erased]', reason: 'asked by phone' }, ip: '198.51.100.4' },
      { action: 'account.erase', user_id: null, entity_id: null, details: { cancelledAppointments: 2, keptAppointments: 3 }, ip: null },
    ]);
    const { rows: coverage } = await pool.query(`SELECT count(*)::int AS n FROM watch_coverage WHERE user_id = $1`, [personId]);
    expect(coverage[0].n).toBe(0);
  });

  it('signs the pages out: the cookie is cleared', async () => {
    const learner = await createUser(t.ctx.pool, { email: `cookie-${tag}@erasure-test.example`, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT' });
    const session = await t.app.inject({ method: 'POST', url: '/api/web/session', payload: { email: learner.email, password: PASSWORD } });
    const cookie = sessionCookieOf(session);
    const noCsrf = await t.app.inject({ method: 'DELETE', url: '/api/me', headers: { cookie }, payload: { password: PASSWORD } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('CSRF_INVALID');
    const res = await t.app.inject({ method: 'DELETE', url: '/api/me', headers: { cookie, 'x-csrf-token': session.json().csrfToken }, payload: { password: PASSWORD } });
    expect(res.statusCode).toBe(204);
    expect(String(res.headers['set-cookie'])).toMatch(/sw_session=;/);
    expect(await rowsHolding(t.ctx.pool, [learner.email, learner.id])).toEqual([]);
  });
});
