/**
 * When Redis is down, whatever checks a password or mails an address is refused (503
 * SERVICE_UNAVAILABLE with Retry-After), and holds go on as before (their limit lets them
 * through). A real outage: the app talks to a redis-server this file starts and then stops.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/passwords.js';
import { createUser } from '../../src/accounts/users.js';
import { useTestApp } from '../helpers/app.js';
import { startOwnRedis } from '../../dev/redis-server.js';
import { futureSlots } from '../booking/helpers.js';

const redisServer = await startOwnRedis();
const t = useTestApp({ REDIS_URL: redisServer.url });
const PASSWORD = 'correct horse battery';
let email: string;

beforeAll(async () => {
  email = `down-${Date.now()}@limits.test`;
  await createUser(t.ctx.pool, { email, passwordHash: await hashPassword(PASSWORD, { log2N: 10, r: 8, p: 1 }), role: 'CLIENT' });
});
afterAll(() => redisServer.stop());

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const guarded: [string, InjectOptions][] = [
  ['sign-in (API)', { method: 'POST', url: '/api/auth/login', payload: { email: '', password: PASSWORD } }],
  ['sign-in (learner pages)', { method: 'POST', url: '/api/web/session', payload: { email: '', password: PASSWORD } }],
  ['sign-in (queue board)', { method: 'POST', url: '/admin/login', headers: form, payload: '' }],
  ['sign-up', { method: 'POST', url: '/api/auth/register', payload: { email: 'new.person@limits.test', password: 'a brand new password' } }],
  ['password reset', { method: 'POST', url: '/api/auth/password-reset', payload: { email: '' } }],
  ['verification resend', { method: 'POST', url: '/api/auth/verify/resend', payload: { email: '' } }],
];
/** The request with this file's account filled in. */
function withEmail(o: InjectOptions): InjectOptions {
  if (typeof o.payload === 'string') return { ...o, payload: new URLSearchParams({ email, password: PASSWORD }).toString() };
  return { ...o, payload: { ...(o.payload as object), ...('email' in (o.payload as object) && (o.payload as { email: string }).email === '' ? { email } : {}) } };
}

describe('a Redis outage', () => {
  it('signs in while Redis answers, then refuses sign-in, sign-up, account mail and password checks with 503, lets holds through, and recovers', async () => {
    expect((await t.app.inject(withEmail(guarded[0]![1]))).statusCode).toBe(200);

    await redisServer.stop();
    const redis = t.app.deps.redis;
    while (redis.status === 'ready') await new Promise((r) => setTimeout(r, 20));

    const signedIn = await t.signedIn();
    const before = (await t.ctx.pool.query(`SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM account_tokens) AS n`)).rows[0].n;
    for (const [what, request] of guarded) {
      const res = await t.app.inject(withEmail(request));
      expect(res.statusCode, `${what}: ${res.body}`).toBe(503);
      expect(res.json().error.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.json().error.message).toMatch(/is unavailable for a moment/);
      expect(res.headers['retry-after']).toBe('5');
    }
    // the password checks of a signed-in learner: changing the password, deleting the account
    for (const request of [
      { method: 'POST', url: '/api/me/password', payload: { currentPassword: PASSWORD, newPassword: 'another long password' } },
      { method: 'DELETE', url: '/api/me', payload: { password: PASSWORD } },
    ] as InjectOptions[]) {
      const res = await t.app.inject({ ...request, headers: t.auth(signedIn.token) });
      expect(res.statusCode, `${request.method} ${request.url}: ${res.body}`).toBe(503);
      expect(res.json().error.code).toBe('SERVICE_UNAVAILABLE');
    }
    expect((await t.ctx.pool.query(`SELECT count(*)::int AS n FROM users WHERE id = $1`, [signedIn.id])).rows[0].n).toBe(1);
    const after = (await t.ctx.pool.query(`SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM account_tokens) AS n`)).rows[0].n;
    expect(after).toBe(before);

    // a hold is no danger to anyone: its limit lets it through
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const learner = await t.signedIn();
    const hold = await t.app.inject({ method: 'POST', url: `/api/slots/${slots[0]!.id}/hold`, headers: t.auth(learner.token) });
    expect(hold.statusCode, hold.body).toBe(201);

    // Redis back on the same port: sign-in works again, with nothing to restart
    await redisServer.start();
    const deadline = Date.now() + 15_000;
    // (read afresh each time: ioredis changes it from its own events)
    const status = (): string => redis.status;
    while (status() !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await t.app.inject(withEmail(guarded[0]![1]))).statusCode).toBe(200);
  });
});
