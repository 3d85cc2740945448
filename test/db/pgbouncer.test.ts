/**
 * The web app and a worker through PgBouncer in transaction pooling mode (Debian's
 * `pgbouncer`, started by the test on a free port with two server connections per
 * database), with DATABASE_DIRECT_URL on PostgreSQL itself for what needs a session: the
 * whole loop (an operator's release, the alert, its delivery; a hold and a booking; a
 * sign-in) is correct, the release listener's LISTEN is on the direct connection (matching
 * is woken by its notification, the scheduled poll being an hour away), and the client
 * connections really did share the server connections. Named statements, which a
 * transaction pooler cannot keep, are shown to fail through it, and to be left off.
 */
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/passwords.js';
import { createSession, userForToken } from '../../src/accounts/sessions.js';
import { loadConfig, newSecretKey } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { startHarnessWithAllTasks, testConfig, until, type Harness } from '../alerts/fixtures.js';
import { buildWebApp } from '../helpers/app.js';
import { useTestContext } from '../helpers/context.js';
import { insertUser } from '../helpers/factories.js';
import { pgbouncerBinary, startPgBouncer, type OwnPgBouncer } from '../helpers/pgbouncer.js';

const missing = pgbouncerBinary() === null;
if (missing) console.error('PgBouncer tests skipped: pgbouncer is not installed (Debian: apt-get install pgbouncer; npm run services installs it)');

describe.skipIf(missing)('through PgBouncer in transaction pooling mode', () => {
  const ctx = useTestContext();
  let bouncer: OwnPgBouncer;
  let pooledUrl: string;
  let smtp: SmtpReceiver;
  let web: Awaited<ReturnType<typeof buildWebApp>>;
  let app: FastifyInstance;
  let worker: Harness;

  beforeAll(async () => {
    bouncer = await startPgBouncer({ poolSize: 2 });
    pooledUrl = bouncer.urlFor(ctx.databaseUrl);
    smtp = await startSmtpReceiver();
    const env = {
      DATABASE_URL: pooledUrl,
      DATABASE_DIRECT_URL: ctx.databaseUrl,
      SMTP_URL: smtp.url,
      // matching must be woken by the listener's notification: the poll is an hour away
      RELEASE_POLL_SECONDS: '3600',
    };
    worker = await startHarnessWithAllTasks(testConfig(ctx, env));
    const config = { ...loadConfig({ ...env, REDIS_URL: ctx.redisUrl, SECRET_KEY: newSecretKey(), METRICS_PORT: 'off', LOG_LEVEL: 'warn' }), QUEUE_PREFIX: ctx.redisPrefix };
    expect(config.DATABASE_NAMED_STATEMENTS).toBe(false);
    web = await buildWebApp(config, pino({ level: 'silent' }));
    app = web.app;
  }, 60_000);

  // registered after useTestContext's, so run before it: every connection to the file's
  // database (PgBouncer's own too) is gone before the database is dropped
  afterAll(async () => {
    await web?.close();
    await worker?.close();
    await smtp?.close();
    await bouncer?.close();
  });

  async function api(method: 'GET' | 'POST', url: string, token: string, payload?: object) {
    const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json();
  }

  it('runs the whole loop: sign-in, release, alert delivered, a hold and a booking', async () => {
    // sign-in (the named session lookup, unnamed here, runs on every signed-in request)
    const learner = await insertUser(ctx.pool);
    await ctx.pool.query(`UPDATE users SET password_hash = $2 WHERE id = $1`, [learner.id, await hashPassword('correct horse battery', { log2N: 10, r: 8, p: 1 })]);
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: learner.email, password: 'correct horse battery' } });
    expect(login.statusCode, login.body).toBe(200);
    const token = (login.json() as { token: string }).token;
    expect((await api('GET', '/api/me', token)).user.email).toBe(learner.email);
    await api('POST', '/api/me/watches', token, { location: { latitude: 51.61, longitude: -0.25 }, radiusMiles: 10, method: 'email', testTypes: ['practical'] });

    const operator = await insertUser(ctx.pool, { role: 'OPERATOR' });
    const op = (await createSession(ctx.pool, operator.id, 1)).token;
    const { center } = await api('POST', '/api/operator/centers', op, { name: 'Mill Hill', postcode: 'NW7 1AA', latitude: 51.6, longitude: -0.24 });
    const { specialist } = await api('POST', '/api/operator/specialists', op, { fullName: 'A Examiner', serviceType: 'driving examiner', centerId: center.id });
    const day = Date.now() + 10 * 86_400_000;
    const slot = (k: number) => ({ specialistId: specialist.id, testType: 'practical', startTime: new Date(day + k * 3_600_000).toISOString(), endTime: new Date(day + k * 3_600_000 + 3_420_000).toISOString() });
    const { slots } = await api('POST', '/api/operator/slots', op, { slots: [slot(0)] });
    const released = (slots as { id: string }[])[0]!.id;

    // release -> match (woken by NOTIFY on the direct connection) -> alert -> email
    await until(() => smtp.messages.some((m) => m.envelopeTo.includes(learner.email)), 'the alert email', 20_000);
    const mail = smtp.messages.find((m) => m.envelopeTo.includes(learner.email))!;
    expect(mail.parsed.text).toContain(`/slots/${released}`);
    // the message is accepted before the sender marks the alert SENT
    const alertStatuses = async () => (await ctx.pool.query<{ status: string }>(`SELECT status FROM user_alerts WHERE user_id = $1`, [learner.id])).rows.map((r) => r.status);
    await until(async () => (await alertStatuses()).join() === 'SENT', 'the alert marked SENT', 10_000);
    expect(await alertStatuses()).toEqual(['SENT']);
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(learner.email))).toHaveLength(1);

    // a hold and a booking, and the slot page right after them
    const held = await api('POST', `/api/slots/${released}/hold`, token);
    const confirmed = await api('POST', `/api/appointments/${held.appointment.id}/confirm`, token);
    expect(confirmed.appointment.status).toBe('CONFIRMED');
    const { rows: booked } = await ctx.pool.query(`SELECT s.status::text AS slot, a.status::text AS appointment FROM time_slots s JOIN appointments a ON a.slot_id = s.id WHERE s.id = $1`, [released]);
    expect(booked).toEqual([{ slot: 'BOOKED', appointment: 'CONFIRMED' }]);
    // a second learner holding it is refused: the booking's checks ran in one transaction each
    const other = await insertUser(ctx.pool);
    const otherToken = (await createSession(ctx.pool, other.id, 1)).token;
    const refused = await app.inject({ method: 'POST', url: `/api/slots/${released}/hold`, headers: { authorization: `Bearer ${otherToken}` } });
    expect(refused.statusCode).toBe(409);
  });

  it('LISTENs on the direct connection, never through PgBouncer, and shares server connections', async () => {
    const database = new URL(ctx.databaseUrl).pathname.slice(1);
    const clients = await bouncer.admin<{ database: string; application_name?: string }>('SHOW CLIENTS');
    const ours = clients.filter((c) => c.database === database);
    expect(ours.length).toBeGreaterThan(2);
    expect(ours.map((c) => c.application_name)).not.toContain('slotwatch-release-listener');
    const { rows: listener } = await ctx.pool.query(`SELECT query FROM pg_stat_activity WHERE datname = $1 AND application_name = 'slotwatch-release-listener'`, [database]);
    expect(listener).toEqual([{ query: 'LISTEN slot_released' }]);
    // the app's and the worker's clients through PgBouncer, on at most two server connections
    const pools = await bouncer.admin<{ database: string; sv_active: string; sv_idle: string; sv_used: string; sv_tested: string; sv_login: string }>('SHOW POOLS');
    const pool = pools.find((p) => p.database === database)!;
    const servers = ['sv_active', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login'].reduce((n, k) => n + Number(pool[k as keyof typeof pool]), 0);
    expect(servers).toBeLessThanOrEqual(2);
  });

  it('named statements fail through a transaction pooler, and are left off behind one', async () => {
    const user = await insertUser(ctx.pool);
    const { token } = await createSession(ctx.pool, user.id, 1);
    const lookups = async (namedStatements: boolean) => {
      const pool = createPool(pooledUrl, { max: 6, namedStatements });
      try {
        const results = await Promise.allSettled(Array.from({ length: 60 }, () => userForToken(pool, token)));
        return results.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: string }).code)));
      } finally {
        await pool.end();
      }
    };
    // prepared on one server connection, used on another: "does not exist" or "already exists"
    const named = await lookups(true);
    expect(named.filter((r) => r === '26000' || r === '42P05').length).toBeGreaterThan(0);
    expect(await lookups(false)).toEqual(Array(60).fill('ok'));
  });
});
