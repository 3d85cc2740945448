/** Accounts over HTTP: register, login, me, logout; tokens stored only as hashes; bad input refused. */
import { afterAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver } from '../../dev/smtp-receiver.js';
import { hashPassword, OWASP_SCRYPT, verifyPassword } from '../../src/accounts/passwords.js';
import { useTestApp } from '../helpers/app.js';
import { nextMail } from '../helpers/mailbox.js';

const smtp = await startSmtpReceiver();
afterAll(() => smtp.close());
const t = useTestApp({ LOGIN_LIMIT_PER_MINUTE: 3, SMTP_URL: smtp.url });

describe('accounts', () => {
  it('registers, logs in, answers /api/me, logs out and refuses the revoked token', async () => {
    const email = `Learner.${Date.now()}@Example.com`;
    const reg = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email, password: 'correct horse battery', firstName: ' Ann ' } });
    expect(reg.statusCode).toBe(202);
    const { rows: made } = await t.ctx.pool.query(`SELECT id, email, role::text AS role, first_name, password_hash FROM users WHERE email = $1`, [email]);
    expect(made).toMatchObject([{ email, role: 'CLIENT', first_name: 'Ann' }]);
    // the app's own lane hashes at OWASP's cost (most other files swap in cheap parameters: helpers/passwords.ts)
    const [, log2N, r, p] = (made[0].password_hash as string).split('$');
    expect({ log2N: Number(log2N), r: Number(r), p: Number(p) }).toEqual(OWASP_SCRYPT);
    const user = { id: made[0].id as string };
    await nextMail(smtp, email, /Confirm your email address/);

    // the same address in another case: the same answer, and no second account
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: email.toLowerCase(), password: 'another password' } });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(reg.json());
    const { rows: count } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)`, [email]);
    expect(count[0].n).toBe(1);

    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'wrong password' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');

    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: email.toUpperCase(), password: 'correct horse battery' } });
    expect(login.statusCode).toBe(200);
    const { token, expiresAt } = login.json();
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now());

    // only the SHA-256 of the token is stored, never the token
    const { rows } = await t.ctx.pool.query(`SELECT encode(token_hash, 'hex') AS h FROM sessions WHERE user_id = $1`, [user.id]);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    const stored = await t.ctx.pool.query(`SELECT password_hash FROM users WHERE id = $1`, [user.id]);
    expect(stored.rows[0].password_hash).toMatch(/^scrypt\$17\$8\$1\$/);

    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: t.auth(token) });
    expect(me.statusCode).toBe(200);
    // signed in, but not verified yet: its watches send nothing until it is
    expect(me.json()).toEqual({ user: { id: user.id, email, role: 'CLIENT' }, emailVerified: false });

    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: t.auth(token) });
    expect(out.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/me', headers: t.auth(token) });
    expect(after.statusCode).toBe(401);
  });

  it('refuses an expired session', async () => {
    const u = await t.signedIn();
    await t.ctx.pool.query(`UPDATE sessions SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE user_id = $1`, [u.id]);
    const res = await t.app.inject({ method: 'GET', url: '/api/me', headers: t.auth(u.token) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('rejects bad input with 400 naming the field, and unknown fields', async () => {
    const cases: [unknown, RegExp][] = [
      [{ email: 'not-an-email', password: 'long enough pw' }, /body\/email/],
      [{ email: 'a@b.co', password: 'short' }, /body\/password/],
      [{ email: 'a@b.co', password: 'long enough pw', role: 'ADMIN' }, /unknown field "role"/],
      [{ password: 'long enough pw' }, /missing required field "email"/],
      [{ email: 42, password: 'long enough pw' }, /body\/email/],
    ];
    for (const [payload, message] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
      expect(res.json().error.message).toMatch(message);
    }
    const bad = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_JSON');
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM users WHERE email = 'a@b.co'`);
    expect(rows[0].n).toBe(0);
  });

  it('limits failed sign-ins per address from one client with 429 and Retry-After', async () => {
    const payload = { email: 'nobody@example.com', password: 'whatever it is' };
    const codes: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload });
      codes.push(res.statusCode);
      if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string;
    }
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('hashes with scrypt and verifies only the right password', async () => {
    const h = await hashPassword('pässwörd', { log2N: 10, r: 8, p: 1 });
    expect(await verifyPassword('pässwörd', h)).toBe(true);
    expect(await verifyPassword('passwörd', h)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});

describe('app basics', () => {
  it('answers health and readiness, 404 for unknown routes, 401 without a token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const missing = await t.app.inject({ method: 'GET', url: '/api/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
    const anon = await t.app.inject({ method: 'GET', url: '/api/me' });
    expect(anon.statusCode).toBe(401);
    const junk = await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Bearer sw_' + 'x'.repeat(43) } });
    expect(junk.statusCode).toBe(401);
  });

  it('refuses oversized bodies with 413', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a@b.co', password: 'x'.repeat(t.config.BODY_LIMIT_BYTES) } });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('BODY_TOO_LARGE');
  });
});
