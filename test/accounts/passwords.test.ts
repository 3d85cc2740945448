/**
 * Passwords end to end: reset by an emailed link (always 202, single use, 30 minutes,
 * every session revoked, the address then verified), change when signed in (the current
 * password required, other sessions revoked, this one kept), sign out everywhere (bearer
 * and cookie), and the rules for new passwords and for names. Emails are read from a real
 * SMTP receiver.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver } from '../../dev/smtp-receiver.js';
import { createSession } from '../../src/accounts/sessions.js';
import { createUser } from '../../src/accounts/users.js';
import { normaliseName } from '../../src/accounts/names.js';
import { sessionCookieOf, useTestApp } from '../helpers/app.js';
import { mailTo, nextMail, tokenIn } from '../helpers/mailbox.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

const smtp = await startSmtpReceiver();
afterAll(() => smtp.close());
const t = useTestApp({
  SMTP_URL: smtp.url,
  PUBLIC_BASE_URL: 'https://slotwatch.test',
  LOGIN_LIMIT_PER_MINUTE: 1000,
  REGISTER_LIMIT_PER_MINUTE: 1000,
  REGISTER_LIMIT_PER_MINUTE_IP: 1000,
  ACCOUNT_EMAIL_LIMIT_PER_MINUTE_IP: 1000,
});
useCheapHashes(t);
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new long secret';
const unique = (tag: string) => `${tag}-${Math.random().toString(36).slice(2, 10)}@passwords.test`;

async function account(o: { verified?: boolean } = {}) {
  const email = unique('user');
  const user = await createUser(t.ctx.pool, { email, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT', verified: o.verified ?? true });
  return { ...user, email };
}
const login = (email: string, password: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/me', headers: t.auth(token) });
const confirm = (token: string, newPassword: string) => t.app.inject({ method: 'POST', url: '/api/auth/password-reset/confirm', payload: { token, newPassword } });
const live = async (userId: string) =>
  (await t.ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, [userId])).rows[0]!.n;

describe('password reset by email', () => {
  it('answers 202 the same for any address; the link sets a new password once, revokes every session and verifies the address', async () => {
    const user = await account({ verified: false });
    const { token: session } = await createSession(t.ctx.pool, user.id, 1);
    const answers = [];
    for (const email of [user.email, unique('nobody')]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/password-reset', payload: { email } });
      answers.push({ status: res.statusCode, body: res.body });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.status).toBe(202);

    const mail = await nextMail(smtp, user.email, /^Reset your slotwatch password$/);
    expect(mail.parsed.text).toContain('for 30 minutes');
    const token = tokenIn(mail, '/reset-password');
    await t.app.accountMail.idle();
    expect(smtp.messages.filter((m) => m.envelopeTo.some((a) => a.endsWith('@passwords.test') && a.startsWith('nobody')))).toEqual([]);
    const { rows } = await t.ctx.pool.query(`SELECT expires_at - created_at AS lasts FROM account_tokens WHERE user_id = $1 AND purpose = 'reset'`, [user.id]);
    expect(rows[0].lasts).toEqual({ minutes: 30 });

    // a weak password is refused without spending the link
    const weak = await confirm(token, 'password1');
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error).toMatchObject({ code: 'WEAK_PASSWORD' });
    expect(weak.json().error.message).toMatch(/^body\/newPassword /);

    expect((await confirm(token, NEW_PASSWORD)).statusCode).toBe(204);
    expect((await me(session)).statusCode).toBe(401);
    expect(await live(user.id)).toBe(0);
    expect((await login(user.email, PASSWORD)).statusCode).toBe(401);
    const signedIn = await login(user.email, NEW_PASSWORD);
    expect(signedIn.statusCode).toBe(200);
    // the link reached the address: it counts as verified
    expect((await me(signedIn.json().token)).json().emailVerified).toBe(true);

    const reused = await confirm(token, 'yet another long secret');
    expect(reused.statusCode).toBe(410);
    expect(reused.json().error).toEqual({ code: 'LINK_USED', message: 'this link has already been used; ask for a new reset link' });
  });

  it('refuses a link older than 30 minutes, and a verification link used as a reset link', async () => {
    const user = await account();
    await t.app.inject({ method: 'POST', url: '/api/auth/password-reset', payload: { email: user.email } });
    const token = tokenIn(await nextMail(smtp, user.email, /Reset your/), '/reset-password');
    await t.ctx.pool.query(`UPDATE account_tokens SET created_at = now() - interval '31 minutes', expires_at = now() - interval '1 minute' WHERE user_id = $1`, [user.id]);
    const expired = await confirm(token, NEW_PASSWORD);
    expect(expired.statusCode).toBe(410);
    expect(expired.json().error.code).toBe('LINK_EXPIRED');

    const pending = await account({ verified: false });
    await t.app.inject({ method: 'POST', url: '/api/auth/verify/resend', payload: { email: pending.email } });
    const verifyToken = tokenIn(await nextMail(smtp, pending.email, /Confirm your email/), '/verify');
    expect((await confirm(verifyToken, NEW_PASSWORD)).json().error.code).toBe('LINK_INVALID');
    expect((await login(user.email, PASSWORD)).statusCode).toBe(200);
  });
});

describe('changing the password and signing out everywhere', () => {
  it('needs the current password, refuses a weak one, and revokes the other sessions but not this one', async () => {
    const user = await account();
    const { token: here } = await createSession(t.ctx.pool, user.id, 1);
    const { token: elsewhere } = await createSession(t.ctx.pool, user.id, 1);
    const change = (body: object, token = here) => t.app.inject({ method: 'POST', url: '/api/me/password', headers: t.auth(token), payload: body });

    const wrong = await change({ currentPassword: 'not my password', newPassword: NEW_PASSWORD });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error).toEqual({ code: 'WRONG_PASSWORD', message: 'body/currentPassword is not your current password' });
    const weak = await change({ currentPassword: PASSWORD, newPassword: '          ' });
    expect(weak.json().error).toEqual({ code: 'WEAK_PASSWORD', message: 'body/newPassword must not be only spaces' });
    expect(await live(user.id)).toBe(2);

    expect((await change({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).statusCode).toBe(204);
    expect((await me(here)).statusCode).toBe(200);
    expect((await me(elsewhere)).statusCode).toBe(401);
    expect((await login(user.email, PASSWORD)).statusCode).toBe(401);
    expect((await login(user.email, NEW_PASSWORD)).statusCode).toBe(200);
    expect((await change({ currentPassword: NEW_PASSWORD }, here)).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/api/me/password', payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } })).statusCode).toBe(401);
  });

  it('works from the pages\' cookie with its CSRF token, keeping that session', async () => {
    const user = await account();
    const web = await t.app.inject({ method: 'POST', url: '/api/web/session', payload: { email: user.email, password: PASSWORD } });
    const cookie = sessionCookieOf(web);
    const csrf = web.json().csrfToken as string;
    const { token: other } = await createSession(t.ctx.pool, user.id, 1);
    const body = { currentPassword: PASSWORD, newPassword: NEW_PASSWORD };
    expect((await t.app.inject({ method: 'POST', url: '/api/me/password', headers: { cookie }, payload: body })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: '/api/me/password', headers: { cookie, 'x-csrf-token': csrf }, payload: body })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(200);
    expect((await me(other)).statusCode).toBe(401);
  });

  it('signs out everywhere: every session, this one too; from the pages the cookie is cleared', async () => {
    const user = await account();
    const tokens = await Promise.all([1, 2, 3].map(async () => (await createSession(t.ctx.pool, user.id, 1)).token));
    const bearer = await t.app.inject({ method: 'POST', url: '/api/me/sessions/revoke-all', headers: t.auth(tokens[0]!) });
    expect(bearer.statusCode).toBe(204);
    expect(bearer.headers['set-cookie']).toBeUndefined();
    for (const token of tokens) expect((await me(token)).statusCode).toBe(401);

    const web = await t.app.inject({ method: 'POST', url: '/api/web/session', payload: { email: user.email, password: PASSWORD } });
    const cookie = sessionCookieOf(web);
    const { token: phone } = await createSession(t.ctx.pool, user.id, 1);
    const fromPage = await t.app.inject({ method: 'POST', url: '/api/me/sessions/revoke-all', headers: { cookie, 'x-csrf-token': web.json().csrfToken } });
    expect(fromPage.statusCode).toBe(204);
    expect(String(fromPage.headers['set-cookie'])).toMatch(/^sw_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await me(phone)).statusCode).toBe(401);
    expect(await live(user.id)).toBe(0);
    // another user's sessions are untouched
    const other = await t.signedIn();
    expect((await me(other.token)).statusCode).toBe(200);
  });
});

describe('what a new password and a name may be', () => {
  const register = (body: object) => t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: unique('rules'), password: PASSWORD, ...body } });

  it('refuses whitespace-only and common passwords, in any letter case, naming the field', async () => {
    for (const password of ['        ', '\t \t \t \t ', 'password', 'PASSWORD', 'Password1', 'qwertyuiop', 'iloveyou']) {
      const res = await register({ password });
      expect(res.statusCode, password).toBe(400);
      expect(res.json().error.code, password).toBe('WEAK_PASSWORD');
      expect(res.json().error.message).toMatch(/^body\/password /);
    }
    const short = await register({ password: 'short' });
    expect(short.json().error).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((await register({ password: 'my own long passphrase' })).statusCode).toBe(202);
  });

  it('takes names in any script with apostrophes, hyphens, dots and spaces, trimmed; refuses anything else naming the field', async () => {
    const good: [string, string][] = [
      ['  Zoë ', 'Zoë'], ["O'Neill", "O'Neill"], ['D’Arcy', 'D’Arcy'], ['Jean-Luc', 'Jean-Luc'], ['J. R. R.', 'J. R. R.'],
      ['Łukasz', 'Łukasz'], ['Nguyễn', 'Nguyễn'], ['محمد', 'محمد'], ['王小明', '王小明'], ['Анна Мария', 'Анна Мария'], ['अनु', 'अनु'],
    ];
    for (const [given, stored] of good) expect(normaliseName(given), given).toBe(stored);
    // through the API (each sign-up costs a hash, so two of them): stored trimmed
    for (const [given, stored] of [good[0]!, good[8]!]) {
      const email = unique('name');
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email, password: PASSWORD, firstName: given, lastName: given } });
      expect(res.statusCode, given).toBe(202);
      const { rows } = await t.ctx.pool.query(`SELECT first_name, last_name FROM users WHERE email = $1`, [email]);
      expect(rows[0], given).toEqual({ first_name: stored, last_name: stored });
    }
    const bad = ['Sam\r\nBcc: x@example.com', 'Sam\nClick here', 'Sam\u0000', 'Sam\u200b', 'R2-D2', 'visit http://evil.example', '<b>Sam</b>', '   ', '...', "'-", 'Sam_', 'Sam!', 'Sam\u202eevil'];
    for (const name of bad) {
      for (const field of ['firstName', 'lastName']) {
        const res = await register({ [field]: name });
        expect(res.statusCode, JSON.stringify(name)).toBe(400);
        expect(res.json().error).toEqual({ code: 'VALIDATION_ERROR', message: `body/${field} may hold only letters, spaces, apostrophes, hyphens and dots` });
      }
    }
    await t.app.accountMail.idle();
    expect(mailTo(smtp, 'nobody@passwords.test')).toEqual([]);
  });
});
