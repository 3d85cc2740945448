/**
 * The learner pages' cookie session over HTTP: the cookie's attributes, the JSON API
 * accepting it (with a CSRF token on state changes, and bearer clients unaffected), the
 * security headers scoped to the pages, and sign-in redirects that stay on this site.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { csrfTokenFor } from '../../src/http/session.js';
import { useTestApp } from '../helpers/app.js';
import { insertAppointment, insertCenter, insertSlot } from '../helpers/factories.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

// many sign-ins by one account in a minute: the login limit is not what this file tests
const t = useTestApp({ LOGIN_LIMIT_PER_MINUTE: 1000 });
useCheapHashes(t);
const PASSWORD = 'correct horse battery';
const EMAIL = 'learner@session.test';

async function signIn(): Promise<{ cookie: string; token: string; setCookie: string; body: { csrfToken: string } }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/web/session', payload: { email: EMAIL, password: PASSWORD } });
  expect(res.statusCode).toBe(200);
  // the sign-in sets the device cookie too (login-limits.ts); this file is about the session's
  const setCookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('sw_session='))!;
  const token = /sw_session=([^;]+)/.exec(setCookie)![1]!;
  return { cookie: `sw_session=${token}`, token, setCookie, body: res.json() };
}

beforeAll(async () => {
  await createUser(t.ctx.pool, { email: EMAIL, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT' });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Lax, path /, not Secure over http, and carries no token in the body', async () => {
    const { setCookie, body, token } = await signIn();
    expect(setCookie).toMatch(/^sw_session=sw_[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure');
    expect(JSON.stringify(body)).not.toContain(token);
    expect(body.csrfToken).toBe(csrfTokenFor(token));
  });

  it('is Secure when PUBLIC_BASE_URL is https', async () => {
    // a second app on the same database, configured for https
    const { buildApp } = await import('../../src/http/app.js');
    const app = await buildApp({ ...t.app.deps, config: { ...t.config, PUBLIC_BASE_URL: 'https://slotwatch.example' } });
    try {
      const res = await app.inject({ method: 'POST', url: '/api/web/session', payload: { email: EMAIL, password: PASSWORD } });
      expect(res.statusCode).toBe(200);
      const cookies = [res.headers['set-cookie'] ?? []].flat();
      expect(cookies.map((c) => c.split('=')[0]).sort()).toEqual(['sw_device', 'sw_session']);
      for (const c of cookies) expect(c).toMatch(/; Secure/);
      const signin = await app.inject({ method: 'GET', url: '/signin' });
      expect(signin.headers['strict-transport-security']).toContain('max-age=');
    } finally {
      await app.close();
    }
  });

  it('is revoked by POST /api/auth/logout when that is how the cookie signs out', async () => {
    const { cookie, body } = await signIn();
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, 'x-csrf-token': body.csrfToken } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^sw_session=; Max-Age=0/);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('refuses a wrong password with 401 and sets no cookie', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/web/session', payload: { email: EMAIL, password: 'wrong password' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('INVALID_CREDENTIALS');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('signs the JSON API in: GET needs no CSRF token, a state change does', async () => {
    const { cookie, token } = await signIn();
    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.email).toBe(EMAIL);

    const centre = await insertCenter(t.ctx.pool);
    const slot = await insertSlot(t.ctx.pool, { centerId: centre.id });
    const forged = await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: { cookie } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('CSRF_INVALID');
    const wrong = await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: { cookie, 'x-csrf-token': csrfTokenFor('sw_' + 'A'.repeat(43)) } });
    expect(wrong.statusCode).toBe(403);
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM appointments WHERE slot_id = $1`, [slot.id]);
    expect(rows[0].n).toBe(0);

    const held = await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: { cookie, 'x-csrf-token': csrfTokenFor(token) } });
    expect(held.statusCode).toBe(201);
  });

  it('leaves bearer clients as they were: no CSRF token, and the bearer wins over a cookie', async () => {
    const { token: bearer, id } = await t.signedIn();
    const centre = await insertCenter(t.ctx.pool);
    const slot = await insertSlot(t.ctx.pool, { centerId: centre.id });
    const { cookie } = await signIn();
    const res = await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: { ...t.auth(bearer), cookie } });
    expect(res.statusCode).toBe(201);
    const { rows } = await t.ctx.pool.query(`SELECT user_id FROM appointments WHERE slot_id = $1`, [slot.id]);
    expect(rows[0].user_id).toBe(id);
  });

  it('answers 401 for a revoked or malformed cookie', async () => {
    const { cookie, token } = await signIn();
    const out = await t.app.inject({ method: 'DELETE', url: '/api/web/session', headers: { cookie, 'x-csrf-token': csrfTokenFor(token) } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/sw_session=; Max-Age=0/);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: 'sw_session=nonsense' } })).statusCode).toBe(401);
  });

  it('does not sign out without the CSRF token', async () => {
    const { cookie } = await signIn();
    const api = await t.app.inject({ method: 'DELETE', url: '/api/web/session', headers: { cookie } });
    expect(api.statusCode).toBe(403);
    const form = await t.app.inject({ method: 'POST', url: '/signout', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: '_csrf=forged' });
    expect(form.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(200);
  });

  it('signs out by the page form with the CSRF token', async () => {
    const { cookie, token } = await signIn();
    const form = await t.app.inject({ method: 'POST', url: '/signout', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrfTokenFor(token)}` });
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe('/signin');
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
  });
});

describe('the pages', () => {
  it('send a signed-out visitor to sign in, and back after', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/watches' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/signin?next=%2Fwatches');
    const { cookie } = await signIn();
    const back = await t.app.inject({ method: 'GET', url: '/signin?next=%2Fappointments', headers: { cookie } });
    expect(back.headers.location).toBe('/appointments');
  });

  it('never redirect off the site after sign-in', async () => {
    const { cookie } = await signIn();
    for (const next of ['//evil.example/x', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)']) {
      const res = await t.app.inject({ method: 'GET', url: `/signin?next=${encodeURIComponent(next)}`, headers: { cookie } });
      expect(res.headers.location).toBe('/watches');
      const page = await t.app.inject({ method: 'GET', url: `/signin?next=${encodeURIComponent(next)}` });
      expect(page.body).toContain('data-next="/watches"');
    }
  });

  it('carry helmet headers and a strict content security policy; the JSON API and the board have their own', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/signin' });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-store');
    const asset = await t.app.inject({ method: 'GET', url: '/assets/api.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['content-security-policy']).toBeDefined();

    const api = await t.app.inject({ method: 'GET', url: '/api/slots?lat=51.5&lon=-0.1' });
    expect(api.statusCode).toBe(200);
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    const board = await t.app.inject({ method: 'GET', url: '/admin/login' });
    expect(board.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  });

  it('stay small for a phone: each page with its stylesheet and whole module graph is under 64 KB', async () => {
    const { cookie } = await signIn();
    const centre = await insertCenter(t.ctx.pool);
    const slot = await insertSlot(t.ctx.pool, { centerId: centre.id });
    const fetchText = async (url: string) => {
      const res = await t.app.inject({ method: 'GET', url, headers: { cookie } });
      expect(res.statusCode, url).toBe(200);
      return res.body;
    };
    for (const path of ['/signin', '/signup', '/watches', '/appointments', '/alerts', `/slots/${slot.id}`]) {
      const html = await t.app.inject({ method: 'GET', url: path, headers: path.startsWith('/sign') ? {} : { cookie } });
      expect(html.statusCode, path).toBe(200);
      const seen = new Set<string>();
      const queue = [...html.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      let bytes = Buffer.byteLength(html.body);
      while (queue.length) {
        const url = queue.shift()!;
        if (seen.has(url)) continue;
        seen.add(url);
        const text = await fetchText(url);
        bytes += Buffer.byteLength(text);
        for (const m of text.matchAll(/from '\.\/([a-z-]+\.js)'/g)) queue.push(`/assets/${m[1]}`);
      }
      expect(seen.size, path).toBeGreaterThan(0);
      expect(bytes, path).toBeLessThan(64 * 1024);
    }
  });

  it('show a slot to anyone, with a 404 page for an unknown or malformed id', async () => {
    const centre = await insertCenter(t.ctx.pool, { name: 'Garretts Green', postcode: 'B33 0SS' });
    const slot = await insertSlot(t.ctx.pool, { centerId: centre.id, start: new Date('2031-07-01T08:30:00Z') });
    const res = await t.app.inject({ method: 'GET', url: `/slots/${slot.id}` });
    expect(res.statusCode).toBe(200);
    // 08:30 UTC in July is 09:30 in London (BST)
    expect(res.body).toMatch(/Tuesday,? 1 July 2031/);
    expect(res.body).toContain('09:30');
    expect(res.body).toContain('Garretts Green (B33 0SS)');
    expect(res.body).toContain(`/signin?next=${encodeURIComponent(`/slots/${slot.id}`)}`);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const missing = await t.app.inject({ method: 'GET', url: `/slots/${id}` });
      expect(missing.statusCode).toBe(404);
      expect(missing.body).toContain('Slot not found');
    }
  });

  it("show a learner's own live hold with its expiry, a booking as booked, and an expired hold as free again", async () => {
    // a learner of its own (one hold per user); any session token works as the cookie
    const { id: userId, token } = await t.signedIn();
    const cookie = `sw_session=${token}`;
    const centre = await insertCenter(t.ctx.pool);
    const held = await insertSlot(t.ctx.pool, { centerId: centre.id, status: 'HOLD' });
    const expiresAt = new Date(Date.now() + 120_000);
    await insertAppointment(t.ctx.pool, { userId, slotId: held.id, expiresAt });
    const page = await t.app.inject({ method: 'GET', url: `/slots/${held.id}`, headers: { cookie } });
    expect(page.body).toContain('You are holding this slot.');
    expect(page.body).toContain(`data-expires-at="${expiresAt.toISOString()}"`);
    // once it lapses (before any sweep) the page offers the slot again instead of a dead countdown
    await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE slot_id = $1`, [held.id]);
    const lapsedOwn = await t.app.inject({ method: 'GET', url: `/slots/${held.id}`, headers: { cookie } });
    expect(lapsedOwn.body).toContain('This slot is free.');
    expect(lapsedOwn.body).not.toContain('data-expires-at');
    await t.ctx.pool.query(`UPDATE appointments SET status = 'CANCELLED', cancelled_at = now() WHERE slot_id = $1`, [held.id]);

    const booked = await insertSlot(t.ctx.pool, { centerId: centre.id, status: 'BOOKED' });
    await insertAppointment(t.ctx.pool, { userId, slotId: booked.id, status: 'CONFIRMED' });
    expect((await t.app.inject({ method: 'GET', url: `/slots/${booked.id}`, headers: { cookie } })).body).toContain('You have booked this slot.');

    // someone's hold, not yet swept: still HOLD in the table, but past its expiry, so free to hold
    const other = await t.signedIn();
    const lapsed = await insertSlot(t.ctx.pool, { centerId: centre.id, status: 'HOLD' });
    await insertAppointment(t.ctx.pool, { userId: other.id, slotId: lapsed.id, expiresAt: new Date(Date.now() - 1000) });
    const again = await t.app.inject({ method: 'GET', url: `/slots/${lapsed.id}`, headers: { cookie } });
    expect(again.body).toContain('This slot is free.');
    expect(again.body).toContain('id="hold"');
    // someone else's page for the booked slot says it is taken
    expect((await t.app.inject({ method: 'GET', url: `/slots/${booked.id}` })).body).toContain('Sorry, this slot has been taken.');
  });

  it('lists each watch with the centres it covers and their free slots, honouring types and dates', async () => {
    const { cookie } = await signIn();
    const { rows: users } = await t.ctx.pool.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [EMAIL]);
    const userId = users[0]!.id;
    // Leeds, and a watch 20 miles round it; Bradford is inside, York (about 22 miles) is not
    const leeds = await insertCenter(t.ctx.pool, { name: 'Leeds', latitude: 53.8008, longitude: -1.5491, postcode: 'LS1 1UR' });
    const bradford = await insertCenter(t.ctx.pool, { name: 'Bradford', latitude: 53.795, longitude: -1.7594, postcode: 'BD1 1HY' });
    await insertCenter(t.ctx.pool, { name: 'York', latitude: 53.96, longitude: -1.0873, postcode: 'YO1 8RA' });
    const soon = (days: number) => new Date(Date.now() + days * 86_400_000);
    await insertSlot(t.ctx.pool, { centerId: leeds.id, start: soon(3) });
    await insertSlot(t.ctx.pool, { centerId: leeds.id, start: soon(4) });
    await insertSlot(t.ctx.pool, { centerId: leeds.id, start: soon(5), testType: 'theory' });
    await insertSlot(t.ctx.pool, { centerId: leeds.id, start: soon(6), status: 'BOOKED' });
    await insertSlot(t.ctx.pool, { centerId: bradford.id, start: soon(40) });
    await t.ctx.pool.query(
      `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, preferred_test_types, latest_date, label)
       VALUES ($1, 53.8008, -1.5491, 20, '["practical"]', (now() + interval '30 days')::date, 'Leeds')`,
      [userId],
    );
    const res = await t.app.inject({ method: 'GET', url: '/api/web/watches', headers: { cookie } });
    expect(res.statusCode).toBe(200);
    const [watch] = res.json().watches;
    expect(watch).toMatchObject({ label: 'Leeds', radiusMiles: 20, testTypes: ['practical'], isActive: true, centreCount: 2, freeSlots: 2 });
    expect(watch.centres.map((c: { name: string; freeSlots: number }) => [c.name, c.freeSlots])).toEqual([['Leeds', 2], ['Bradford', 0]]);
    expect((await t.app.inject({ method: 'GET', url: '/api/web/watches' })).statusCode).toBe(401);
  });
});
