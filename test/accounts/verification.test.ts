/**
 * Verified addresses and a sign-up that tells nothing: a new account is mailed a
 * single-use link (stored only as a hash); until it is followed the account's watches
 * write no alerts, afterwards they do; an expired, reused or unknown link is refused in
 * words; signing up with an address that has an account answers exactly the same and mails
 * that address a note instead; resending answers the same whoever asks. The emails are read
 * from a real SMTP receiver.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver } from '../../dev/smtp-receiver.js';
import { matchReleaseBatch } from '../../src/alerts/match.js';
import { useTestApp } from '../helpers/app.js';
import { insertCenter, insertSlot, insertUser, insertWatch } from '../helpers/factories.js';
import { mailTo, nextMail, tokenIn } from '../helpers/mailbox.js';
import { useCheapHashes } from '../helpers/passwords.js';

const smtp = await startSmtpReceiver();
afterAll(() => smtp.close());
const t = useTestApp({
  SMTP_URL: smtp.url,
  PUBLIC_BASE_URL: 'https://slotwatch.test',
  REGISTER_LIMIT_PER_MINUTE: 1000,
  REGISTER_LIMIT_PER_MINUTE_IP: 1000,
  ACCOUNT_EMAIL_LIMIT_PER_MINUTE_IP: 1000,
});
useCheapHashes(t);
const PASSWORD = 'correct horse battery';
const unique = (tag: string) => `${tag}-${Math.random().toString(36).slice(2, 10)}@verify.test`;

const register = (email: string, password = PASSWORD) => t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email, password } });
const verify = (token: string) => t.app.inject({ method: 'POST', url: '/api/auth/verify', payload: { token } });

async function userId(email: string): Promise<string> {
  const { rows } = await t.ctx.pool.query<{ id: string }>(`SELECT id FROM users WHERE lower(email) = lower($1)`, [email]);
  return rows[0]!.id;
}

/** Releases a fresh slot at the watch's centre and runs matching: the users alerted. */
async function alertedFor(centerId: string): Promise<string[]> {
  const slot = await insertSlot(t.ctx.pool, { centerId });
  while ((await matchReleaseBatch(t.ctx.pool, 50)).releases > 0);
  const { rows } = await t.ctx.pool.query<{ user_id: string }>(`SELECT user_id FROM user_alerts WHERE slot_id = $1`, [slot.id]);
  return rows.map((r) => r.user_id);
}

describe('verified addresses', () => {
  it('an unverified user\'s watch writes no alert; after the emailed link is followed it does', async () => {
    const email = unique('new');
    const res = await register(email);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ message: 'Check your inbox: we have sent an email to finish signing up.' });
    const mail = await nextMail(smtp, email, /^Confirm your email address for slotwatch$/);
    const token = tokenIn(mail, '/verify');
    expect(mail.parsed.text).toContain(`https://slotwatch.test/verify#token=${token}`);
    expect(mail.parsed.html).toContain(`href="https://slotwatch.test/verify#token=${token}"`);

    // only the token's SHA-256 is stored
    const id = await userId(email);
    const { rows: stored } = await t.ctx.pool.query(`SELECT purpose::text, token_hash, used_at, expires_at - created_at AS lasts FROM account_tokens WHERE user_id = $1`, [id]);
    expect(stored).toHaveLength(1);
    expect(stored[0].purpose).toBe('verify');
    expect(Buffer.compare(stored[0].token_hash, createHash('sha256').update(token).digest())).toBe(0);
    expect(JSON.stringify(stored)).not.toContain(token);

    const center = await insertCenter(t.ctx.pool, { latitude: 51.5, longitude: -0.12 });
    await insertWatch(t.ctx.pool, { userId: id, latitude: 51.5, longitude: -0.12 });
    const verifiedOther = await insertUser(t.ctx.pool);
    await insertWatch(t.ctx.pool, { userId: verifiedOther.id, latitude: 51.5, longitude: -0.12 });
    expect(await alertedFor(center.id)).toEqual([verifiedOther.id]);

    // signed in while unverified: /api/me says so
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    const me = () => t.app.inject({ method: 'GET', url: '/api/me', headers: t.auth(login.json().token) });
    expect((await me()).json().emailVerified).toBe(false);

    expect((await verify(token)).statusCode).toBe(204);
    expect((await me()).json().emailVerified).toBe(true);
    expect((await alertedFor(center.id)).sort()).toEqual([id, verifiedOther.id].sort());

    // the same link again: refused in words, and the account stays verified
    const again = await verify(token);
    expect(again.statusCode).toBe(410);
    expect(again.json().error).toEqual({ code: 'LINK_USED', message: 'this link has already been used; sign in to ask for a new one' });
  });

  it('refuses an expired link and an unknown one with a clear message; a newer link spends the older ones', async () => {
    const email = unique('late');
    await register(email);
    const first = tokenIn(await nextMail(smtp, email, /Confirm your email/), '/verify');
    await t.ctx.pool.query(`UPDATE account_tokens SET created_at = now() - interval '3 days', expires_at = now() - interval '1 second' WHERE user_id = $1`, [await userId(email)]);
    const expired = await verify(first);
    expect(expired.statusCode).toBe(410);
    expect(expired.json().error.code).toBe('LINK_EXPIRED');
    expect(expired.json().error.message).toBe('this link has expired; sign in to ask for a new one');

    for (const token of ['A'.repeat(43), 'not a token']) {
      const unknown = await verify(token);
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.code).toBe('LINK_INVALID');
    }

    // two fresh links: using one spends the other
    await t.app.inject({ method: 'POST', url: '/api/auth/verify/resend', payload: { email } });
    await t.app.inject({ method: 'POST', url: '/api/auth/verify/resend', payload: { email } });
    const a = tokenIn(await nextMail(smtp, email, /Confirm your email/), '/verify');
    const b = tokenIn(await nextMail(smtp, email, /Confirm your email/), '/verify');
    expect((await verify(b)).statusCode).toBe(204);
    expect((await verify(a)).json().error.code).toBe('LINK_USED');
  });

  it('accounts made by staff and the demo\'s bulk insert are verified; the migration took existing accounts as verified', async () => {
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM users WHERE email_verified_at IS NULL AND email NOT LIKE '%@verify.test'`);
    expect(rows[0].n).toBe(0);
  });
});

describe('sign-up that tells nothing', () => {
  it('answers an address with an account exactly like a new one, and mails that address a note instead', async () => {
    const known = unique('known');
    await register(known);
    const link = tokenIn(await nextMail(smtp, known, /Confirm your email/), '/verify');
    expect((await verify(link)).statusCode).toBe(204);

    const fresh = await register(unique('fresh'));
    const taken = await register(known, 'some other long password');
    expect(taken.statusCode).toBe(fresh.statusCode);
    expect(taken.body).toBe(fresh.body);
    const headers = (h: Record<string, unknown>) => Object.keys(h).filter((k) => !['date', 'content-length'].includes(k)).sort();
    expect(headers(taken.headers)).toEqual(headers(fresh.headers));

    const note = await nextMail(smtp, known, /^Someone tried to sign up to slotwatch with your address$/);
    expect(note.parsed.text).toContain('https://slotwatch.test/signin');
    expect(note.parsed.text).toContain('https://slotwatch.test/forgot-password');
    expect(note.parsed.text).not.toMatch(/#token=/);
    // the password of the account is unchanged
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: known, password: PASSWORD } });
    expect(login.statusCode).toBe(200);

    // an address with an account still unverified gets a fresh link, which works
    const pending = unique('pending');
    await register(pending);
    await nextMail(smtp, pending, /Confirm your email/);
    expect((await register(pending)).body).toBe(fresh.body);
    const second = tokenIn(await nextMail(smtp, pending, /Confirm your email/), '/verify');
    expect((await verify(second)).statusCode).toBe(204);
  });

  it('takes as long for an address with an account as for a new one (figures printed, not asserted)', async () => {
    const known = unique('timed');
    await register(known);
    await t.app.accountMail.idle();
    const time = async (email: string) => {
      const start = process.hrtime.bigint();
      const res = await register(email);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      expect(res.statusCode).toBe(202);
      return ms;
    };
    const fresh: number[] = [];
    const taken: number[] = [];
    // alternating which goes first, so a drift in the machine's load falls on both
    for (let i = 0; i < 6; i++) {
      if (i % 2) taken.push(await time(known));
      fresh.push(await time(unique('timed-new')));
      if (!(i % 2)) taken.push(await time(known));
    }
    await t.app.accountMail.idle();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.error(`sign-up answer, median of 6: new address ${median(fresh).toFixed(0)} ms, address with an account ${median(taken).toFixed(0)} ms`);
  });

  it('answers a resend the same whoever asks, and mails only an unverified account', async () => {
    const verified = (await insertUser(t.ctx.pool, { email: unique('verified') })).email;
    const unverified = (await insertUser(t.ctx.pool, { email: unique('unverified'), verified: false })).email;
    const nobody = unique('nobody');
    const answers = [];
    for (const email of [verified, unverified, nobody]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/verify/resend', payload: { email } });
      answers.push([res.statusCode, res.body]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]![0]).toBe(202);
    await nextMail(smtp, unverified, /Confirm your email/);
    await t.app.accountMail.idle();
    expect(mailTo(smtp, verified)).toEqual([]);
    expect(mailTo(smtp, nobody)).toEqual([]);
  });
});

describe('rate limits', () => {
  const limited = useTestApp({ SMTP_URL: smtp.url, REGISTER_LIMIT_PER_MINUTE_IP: 2, ACCOUNT_EMAIL_LIMIT_PER_MINUTE: 2 });
  useCheapHashes(limited);

  it('limits sign-ups per IP, and resends per address, with 429 and Retry-After', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await limited.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: unique('burst'), password: PASSWORD } })).statusCode);
    expect(codes).toEqual([202, 202, 429]);
    const email = unique('resend');
    const resends: number[] = [];
    let retryAfter: unknown;
    for (let i = 0; i < 3; i++) {
      const res = await limited.app.inject({ method: 'POST', url: '/api/auth/verify/resend', payload: { email } });
      resends.push(res.statusCode);
      retryAfter = res.headers['retry-after'];
    }
    expect(resends).toEqual([202, 202, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    await limited.app.accountMail.idle();
  });
});
