/**
 * A stranger cannot lock an owner out: failures are counted per (address, client) and
 * slow (never refuse) the address across clients; the owner's own browser, known by its
 * device cookie, is counted per device; every client (an IPv6 client is its /64) has an
 * attempt limit. Two and more clients are told apart by their addresses (inject's
 * remoteAddress), as fastify sees them.
 */
import { createHash } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/passwords.js';
import { createUser } from '../../src/accounts/users.js';
import { DEVICE_COOKIE } from '../../src/http/device-cookie.js';
import { signInDelayMs } from '../../src/http/login-limits.js';
import { useTestApp } from '../helpers/app.js';

const MAX_FAILURES = 3;
const t = useTestApp({ LOGIN_LIMIT_PER_MINUTE: MAX_FAILURES, LOGIN_LIMIT_PER_MINUTE_IP: 12 });
const PASSWORD = 'correct horse battery';
const WRONG = 'not the password at all';

// clients: the attacker's two addresses, the victim's usual one, a shared NAT
const A = '198.51.100.1';
const A2 = '198.51.100.2';
const B = '203.0.113.7';

type Form = 'api' | 'web' | 'board';
const FORMS: Form[] = ['api', 'web', 'board'];

function signIn(form: Form, email: string, password: string, o: { ip: string; device?: string }): Promise<LightMyRequestResponse> {
  const cookies: Record<string, string> = o.device === undefined ? {} : { [DEVICE_COOKIE]: o.device };
  const request: InjectOptions =
    form === 'board'
      ? {
          method: 'POST',
          url: '/admin/login',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ email, password }).toString(),
        }
      : { method: 'POST', url: form === 'api' ? '/api/auth/login' : '/api/web/session', payload: { email, password } };
  return t.app.inject({ ...request, remoteAddress: o.ip, cookies });
}

/** The device cookie a sign-in set, checked for its attributes. */
function deviceCookieOf(res: LightMyRequestResponse): string {
  const cookie = res.cookies.find((c) => c.name === DEVICE_COOKIE);
  expect(cookie, `no ${DEVICE_COOKIE} in ${JSON.stringify(res.headers['set-cookie'])}`).toBeDefined();
  expect(cookie).toMatchObject({ path: '/', httpOnly: true, sameSite: 'Strict' });
  expect(cookie!.maxAge).toBeGreaterThan(30 * 86_400);
  return cookie!.value;
}

let n = 0;
async function newAccount(): Promise<string> {
  const email = `owner${++n}-${Date.now()}@limits.test`;
  // cheap scrypt parameters: these tests count attempts, they do not time hashing
  await createUser(t.ctx.pool, { email, passwordHash: await hashPassword(PASSWORD, { log2N: 10, r: 8, p: 1 }), role: 'CLIENT' });
  return email;
}

describe('sign-in limits', () => {
  let victim: string;
  let device: string;

  beforeAll(async () => {
    victim = await newAccount();
    // the owner signed in once from their own browser: it holds a device cookie for the address
    const first = await signIn('web', victim, PASSWORD, { ip: B });
    expect(first.statusCode).toBe(200);
    device = deviceCookieOf(first);
  });

  it('counts failures, not attempts: an owner signing in often is never refused', async () => {
    const email = await newAccount();
    const codes = [];
    for (let i = 0; i < MAX_FAILURES + 3; i++) codes.push((await signIn('api', email, PASSWORD, { ip: '192.0.2.50' })).statusCode);
    expect(codes).toEqual(Array(MAX_FAILURES + 3).fill(200));
  });

  it('counts guesses sent all at once before any is answered: no more get through than the limit', async () => {
    const email = await newAccount();
    const answers = await Promise.all(Array.from({ length: 8 }, () => signIn('api', email, WRONG, { ip: '192.0.2.55' })));
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes).toEqual([...Array(MAX_FAILURES).fill(401), ...Array(8 - MAX_FAILURES).fill(429)]);
  });

  it('limits the stranger, not the owner: the owner signs in from another client, and with their device cookie from the stranger\'s own', async () => {
    // the stranger fails from A until refused there, then goes on from A2
    const fromA = [];
    for (let i = 0; i < MAX_FAILURES + 1; i++) fromA.push((await signIn('api', victim, WRONG, { ip: A })).statusCode);
    expect(fromA).toEqual([...Array(MAX_FAILURES).fill(401), 429]);
    const fromA2 = [];
    for (let i = 0; i < MAX_FAILURES; i++) fromA2.push((await signIn('web', victim, WRONG, { ip: A2 })).statusCode);
    expect(fromA2).toEqual(Array(MAX_FAILURES).fill(401));

    // A is refused at every door, even with the right password, with a Retry-After
    for (const form of FORMS) {
      const res = await signIn(form, victim, PASSWORD, { ip: A });
      expect(res.statusCode, form).toBe(429);
      expect(res.json().error.code).toBe('RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    }

    // the owner from B, with no device cookie (a new browser): let in, after the delay that
    // 2 × MAX_FAILURES failures for the address have earned (250 ms doubled 3 times)
    const delay = signInDelayMs(2 * MAX_FAILURES, MAX_FAILURES);
    expect(delay).toBe(2000);
    const started = performance.now();
    const owner = await signIn('api', victim, PASSWORD, { ip: B });
    expect(owner.statusCode, owner.body).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(delay - 50);

    // the owner's browser with its device cookie, even from A (a NAT shared with the
    // stranger): counted per device, so signed in at every door (the board refuses a
    // learner with its own 403 page: the password was right)
    expect((await signIn('web', victim, PASSWORD, { ip: A, device })).statusCode).toBe(200);
    expect((await signIn('api', victim, PASSWORD, { ip: A, device })).statusCode).toBe(200);
    expect((await signIn('board', victim, PASSWORD, { ip: A, device })).statusCode).toBe(403);

    // without the cookie, A is A: still refused
    expect((await signIn('web', victim, PASSWORD, { ip: A })).statusCode).toBe(429);
  });

  it('honours a device cookie only for the address it was issued for, and only as issued', async () => {
    const other = await newAccount();
    const ip = '192.0.2.60';
    const codes = [];
    for (let i = 0; i < MAX_FAILURES + 1; i++) codes.push((await signIn('api', other, WRONG, { ip, device })).statusCode);
    expect(codes).toEqual([...Array(MAX_FAILURES).fill(401), 429]);

    const [id, signature] = device.split('.') as [string, string];
    const forged = `${id}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await signIn('api', victim, PASSWORD, { ip: A, device: forged })).statusCode).toBe(429);
    // junk in the cookie is no cookie, never an error
    const fresh = await newAccount();
    for (const junk of ['', '.', 'x'.repeat(4000), `${id}.${signature}.extra`, '%zz', '\u00e9\u0000']) {
      expect((await signIn('api', fresh, PASSWORD, { ip: '192.0.2.61', device: junk })).statusCode, junk).toBe(200);
    }
  });

  it('limits a device on its own failures', async () => {
    const email = await newAccount();
    const ip = '192.0.2.70';
    const signedIn = await signIn('api', email, PASSWORD, { ip });
    const own = deviceCookieOf(signedIn);
    const codes = [];
    for (let i = 0; i < MAX_FAILURES + 1; i++) codes.push((await signIn('api', email, WRONG, { ip: '192.0.2.71', device: own })).statusCode);
    expect(codes).toEqual([...Array(MAX_FAILURES).fill(401), 429]);
    // the device's failures are its own: the same address from the same client without the
    // cookie is not refused, nor slowed (they were not counted for the address)
    expect((await signIn('api', email, PASSWORD, { ip: '192.0.2.71' })).statusCode).toBe(200);
  });

  it('limits every attempt per client, an IPv6 client being its /64', async () => {
    const client = '2001:db8:aa:bb::1';
    const codes = [];
    // distinct addresses (of accounts with cheap hashes: an unknown one costs a full hash),
    // so only the per-client attempt count can refuse them
    const emails = await Promise.all(Array.from({ length: t.config.LOGIN_LIMIT_PER_MINUTE_IP + 1 }, () => newAccount()));
    for (const email of emails) codes.push((await signIn('api', email, WRONG, { ip: client })).statusCode);
    expect(codes).toEqual([...Array(t.config.LOGIN_LIMIT_PER_MINUTE_IP).fill(401), 429]);
    // another address in the same /64 is the same client; the next /64 is another
    expect((await signIn('api', 'else@v6.test', WRONG, { ip: '2001:db8:aa:bb:ffff:1:2:3' })).statusCode).toBe(429);
    expect((await signIn('api', 'else@v6.test', WRONG, { ip: '2001:db8:aa:bc::1' })).statusCode).toBe(401);
  });

  it('names counters by an HMAC of the address under SECRET_KEY: nothing Redis holds is a plain digest of it', async () => {
    const keys = await t.ctx.redis.keys(`${t.config.QUEUE_PREFIX}:rl:*`);
    expect(keys.some((k) => k.includes(':login-fail-email:'))).toBe(true);
    const plain = createHash('sha256').update(victim.toLowerCase()).digest('base64url').slice(0, 22);
    for (const key of keys) {
      expect(key).not.toContain(plain);
      expect(key).not.toContain(victim.toLowerCase());
    }
  });
});

describe('the delay for an address past its failures', () => {
  it('starts at 250 ms, doubles with each failure, and is capped at 5 s', () => {
    expect([0, 2, 3, 4, 5, 6, 7, 8, 50, 10_000].map((f) => signInDelayMs(f, 3))).toEqual([0, 0, 250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });
});
