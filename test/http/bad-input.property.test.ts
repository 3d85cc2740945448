/**
 * Property: no input a caller can send makes any route answer 5xx. fast-check throws
 * random and hostile requests (wrong types, missing and unknown fields, malformed ids,
 * out-of-range numbers, oversized and SQL-looking strings, broken JSON) at every route
 * the app registers, signed in as each role and as nobody. A second property mutates
 * valid bodies of the account, operator and account-deletion routes one field at a time:
 * each is a 400 naming the field, and the database is left exactly as it was. A third has
 * one learner try random sequences of holds, confirms, cancels and lapses against the
 * booking limits: refusals only, never two live bookings of a test type. A fourth sends
 * the sign-in and sign-up routes hostile device cookies from any client address.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { futureSlots, invariantViolations } from '../booking/helpers.js';
import { useCheapHashes } from '../helpers/passwords.js';

const t = useTestApp({ HOLD_LIMIT_PER_MINUTE: 1_000_000, HOLD_LIMIT_PER_MINUTE_IP: 1_000_000, LOGIN_LIMIT_PER_MINUTE: 1_000_000, LOGIN_LIMIT_PER_MINUTE_IP: 1_000_000 });
useCheapHashes(t);

const FIELDS = [
  'email', 'password', 'firstName', 'lastName', 'name', 'postcode', 'latitude', 'longitude', 'fullName', 'serviceType',
  'centerId', 'slots', 'specialistId', 'testType', 'startTime', 'endTime', 'value', 'endpoint', 'keys', 'radiusMiles',
  'lat', 'lon', 'from', 'to', 'limit', 'id', 'dailyCap', 'before', 'token', 'newPassword', 'currentPassword', '__proto__', 'constructor',
];

const sqlish = fc.constantFrom(
  "' OR '1'='1", "1; DROP TABLE time_slots; --", "'); DELETE FROM users; --", '$1::uuid', "\\'", '%', '_', '\u0000', 'NaN',
  '00000000-0000-4000-8000-000000000000', '2030-02-30T25:61:61Z', '2030-12-31T23:59:60Z', '-0', '1e309', 'Infinity',
);
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  sqlish,
  fc.uuid(),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ minLength: 5000, maxLength: 6000 }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.constantFrom(...FIELDS), tie('v'), { maxKeys: 5 })),
})).v;
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }),
  value,
  fc.constant(undefined),
);
const pathParam = fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 60 }), sqlish, fc.constant('x'.repeat(3000)));
const query = fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(scalar.map(String), sqlish), { maxKeys: 6 });
const rawJson = fc.constantFrom('{', '{"email":', '[1,2', '{"a":1}}', 'null', '"text"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}');

describe('hostile input', () => {
  it('never answers 5xx on any route, whoever asks', async () => {
    const tokens = {
      none: undefined,
      CLIENT: (await t.signedIn('CLIENT')).token,
      OPERATOR: (await t.signedIn('OPERATOR')).token,
      ADMIN: (await t.signedIn('ADMIN')).token,
    };
    const routes = t.app.routeTable;
    expect(routes.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...(Object.keys(tokens) as (keyof typeof tokens)[])),
          pathParam,
          query,
          fc.oneof({ weight: 4, arbitrary: body.map((b) => ({ json: b })) }, { weight: 1, arbitrary: rawJson.map((raw) => ({ raw })) }),
          async (who, param, q, payload) => {
            const path = route.url.replace(/:(\w+)/g, () => encodeURIComponent(param)).replace(/\*/g, encodeURIComponent(param));
            const search = new URLSearchParams(q as Record<string, string>).toString();
            const token = tokens[who];
            const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
            const withBody = route.method !== 'GET' && route.method !== 'DELETE' ? true : route.method === 'DELETE';
            let res;
            if (withBody && 'raw' in payload) {
              res = await t.app.inject({ method: route.method as 'POST', url: `${path}?${search}`, headers: { ...headers, 'content-type': 'application/json' }, payload: payload.raw });
            } else if (withBody && 'json' in payload && payload.json !== undefined) {
              res = await t.app.inject({ method: route.method as 'POST', url: `${path}?${search}`, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload.json) });
            } else {
              res = await t.app.inject({ method: route.method as 'GET', url: `${path}?${search}`, headers });
            }
            if (res.statusCode >= 500) {
              failures.push(`${route.method} ${route.url} as ${who} -> ${res.statusCode} ${res.body.slice(0, 200)} (param ${param.slice(0, 40)}, query ${search.slice(0, 80)})`);
              return false;
            }
            if (res.statusCode >= 400 && String(res.headers['content-type']).startsWith('application/json')) {
              const err = res.json().error;
              expect(typeof err?.code, `${route.method} ${route.url}: ${res.body.slice(0, 200)}`).toBe('string');
              expect(typeof err?.message).toBe('string');
            }
            return true;
          },
        ),
        { numRuns: 40, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
      ).catch((err: Error) => failures.push(`${route.method} ${route.url}: ${err.message.slice(0, 600)}`));
    }
    expect(failures).toEqual([]);
  });

  it('a valid booking-route body broken in one field is a 400 naming the field, and changes nothing', async () => {
    const op = await t.signedIn('OPERATOR');
    const learner = await t.signedIn('CLIENT');
    const { center, specialist } = await futureSlots(t.ctx.pool, 1);
    const valid: Record<string, { url: string; body: Record<string, unknown>; method?: 'DELETE'; token?: string }> = {
      // the learner's own account: never deleted here, as every body is broken in one field
      erase: { url: '/api/me', method: 'DELETE', token: learner.token, body: { password: 'long enough password' } },
      register: { url: '/api/auth/register', body: { email: 'new.person@example.com', password: 'long enough password', firstName: 'A', lastName: 'B' } },
      login: { url: '/api/auth/login', body: { email: 'new.person@example.com', password: 'long enough password' } },
      verify: { url: '/api/auth/verify', body: { token: 'A'.repeat(43) } },
      resend: { url: '/api/auth/verify/resend', body: { email: 'new.person@example.com' } },
      resetRequest: { url: '/api/auth/password-reset', body: { email: 'new.person@example.com' } },
      reset: { url: '/api/auth/password-reset/confirm', body: { token: 'A'.repeat(43), newPassword: 'long enough password' } },
      change: { url: '/api/me/password', body: { currentPassword: 'long enough password', newPassword: 'another long password' } },
      center: { url: '/api/operator/centers', body: { name: 'Centre', postcode: 'M1 1AA', latitude: 53.4, longitude: -2.2 } },
      specialist: { url: '/api/operator/specialists', body: { fullName: 'Ex Aminer', serviceType: 'driving examiner', centerId: center.id } },
      slots: {
        url: '/api/operator/slots',
        body: { slots: [{ specialistId: specialist.id, testType: 'practical', startTime: '2034-01-01T09:00:00Z', endTime: '2034-01-01T10:00:00Z' }] },
      },
    };
    const snapshot = async () =>
      (await t.ctx.pool.query(`SELECT (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM test_centers) AS c, (SELECT count(*) FROM specialists) AS s,
                                      (SELECT count(*) FROM time_slots) AS t, (SELECT count(*) FROM audit_logs) AS a, (SELECT count(*) FROM sessions) AS x,
                                      (SELECT count(*) FROM account_tokens) AS k`)).rows[0];
    const before = await snapshot();
    const breakers = fc.constantFrom(
      { how: 'wrong type', apply: (_v: unknown) => ({ set: 12345 }) },
      { how: 'null', apply: () => ({ set: null }) },
      { how: 'missing', apply: () => ({ remove: true }) },
      { how: 'sql string', apply: () => ({ set: "x'; DROP TABLE users; --" }) },
      { how: 'huge string', apply: () => ({ set: 'y'.repeat(5000) }) },
      { how: 'out of range', apply: () => ({ set: 1e9 }) },
      { how: 'object', apply: () => ({ set: { nested: true } }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(valid)), fc.nat(), breakers, fc.boolean(), async (name, pick, breaker, addUnknown) => {
        const { url, body, method, token } = valid[name]!;
        const keys = Object.keys(body);
        const field = keys[pick % keys.length]!;
        const broken: Record<string, unknown> = { ...body };
        const change = breaker.apply(body[field]) as { set?: unknown; remove?: boolean };
        // firstName/lastName are optional and a long sql-ish password is still a password: skip those
        if (['firstName', 'lastName'].includes(field) && change.remove) return true;
        // any text is a valid name or password: only length and type can be wrong there
        if (['firstName', 'lastName', 'name', 'fullName', 'serviceType', 'password', 'token', 'newPassword', 'currentPassword'].includes(field) && breaker.how === 'sql string') return true;
        if (change.remove) delete broken[field];
        else broken[field] = change.set;
        if (addUnknown) broken.unexpected = 'field';
        const res = await t.app.inject({ method: method ?? 'POST', url, headers: t.auth(token ?? op.token), payload: broken });
        expect(res.statusCode, `${name} ${field} ${breaker.how}: ${res.body.slice(0, 200)}`).toBe(400);
        expect(res.json().error.code).toBe('VALIDATION_ERROR');
        expect(res.json().error.message).toMatch(addUnknown ? /body(\/\w+)? has unknown field|body\/\w+|missing required field/ : new RegExp(`${field}`));
        return true;
      }),
      { numRuns: 300 },
    );
    expect(await snapshot()).toEqual(before);
  });

  it('a learner trying any sequence of holds, confirms, cancels and lapses never gets a 5xx, nor two live bookings of a test type', async () => {
    const { center, slots } = await futureSlots(t.ctx.pool, 4);
    const theory = await t.ctx.pool.query<{ id: string }>(
      `INSERT INTO time_slots (center_id, test_type, start_time, end_time) VALUES ($1, 'theory', now() + interval '40 days', now() + interval '40 days 1 hour') RETURNING id`,
      [center.id],
    );
    const slotIds = [...slots.map((s) => s.id), theory.rows[0]!.id];
    const REFUSALS = ['SLOT_UNAVAILABLE', 'ALREADY_HOLDING', 'ALREADY_BOOKED', 'REHOLD_TOO_SOON', 'HOLD_EXPIRED', 'APPOINTMENT_NOT_ACTIVE'];
    const step = fc.record({ op: fc.constantFrom('hold', 'hold', 'confirm', 'cancel', 'lapse', 'cool'), slot: fc.nat(slotIds.length - 1), which: fc.nat() });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const u = await t.signedIn();
        const mine = async () => (await t.ctx.pool.query<{ id: string }>(`SELECT id FROM appointments WHERE user_id = $1 ORDER BY created_at, id`, [u.id])).rows.map((r) => r.id);
        for (const { op, slot, which } of steps) {
          const ids = await mine();
          const id = ids[which % Math.max(1, ids.length)];
          let res;
          if (op === 'hold') res = await t.app.inject({ method: 'POST', url: `/api/slots/${slotIds[slot]}/hold`, headers: t.auth(u.token) });
          else if ((op === 'confirm' || op === 'cancel') && id) res = await t.app.inject({ method: 'POST', url: `/api/appointments/${id}/${op}`, headers: t.auth(u.token) });
          else if (op === 'lapse') await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND status = 'HOLD'`, [u.id]);
          // the cooldown passes
          else if (op === 'cool') await t.ctx.pool.query(`UPDATE appointments SET cancelled_at = cancelled_at - interval '1 hour' WHERE user_id = $1 AND status = 'CANCELLED'`, [u.id]);
          if (res && res.statusCode >= 400) {
            expect(res.statusCode, res.body).toBeLessThan(500);
            expect(REFUSALS, res.body).toContain(res.json().error.code);
            if (res.json().error.code === 'REHOLD_TOO_SOON') expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
          }
        }
        expect(await invariantViolations(t.ctx.pool)).toEqual([]);
        // leave the slots free for the next run (a lapsed, unswept hold can still be cancelled)
        for (const id of await mine()) await t.app.inject({ method: 'POST', url: `/api/appointments/${id}/cancel`, headers: t.auth(u.token) });
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it('a hostile device cookie, from any client address, never makes a sign-in or sign-up fail on our side', async () => {
    const base64url = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 50 });
    const cookie = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(base64url, base64url).map(([a, b]) => `${a}.${b}`),
      fc.tuple(fc.string({ minLength: 22, maxLength: 22 }), fc.string({ minLength: 43, maxLength: 43 })).map(([a, b]) => `${a}.${b}`),
      sqlish,
      fc.constant('x'.repeat(4000)),
    );
    const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('::ffff:192.0.2.1', 'fe80::1%eth0', '::', '::1'));
    const forms = [
      { url: '/api/auth/login', json: true },
      { url: '/api/web/session', json: true },
      { url: '/admin/login', json: false },
      { url: '/api/auth/register', json: true },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...forms), cookie, ip, fc.emailAddress(), async (form, device, remoteAddress, email) => {
        const body = { email, password: 'long enough password' };
        const res = await t.app.inject({
          method: 'POST',
          url: form.url,
          remoteAddress,
          cookies: { sw_device: device },
          ...(form.json ? { payload: body } : { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body).toString() }),
        });
        expect(res.statusCode, `${form.url} from ${remoteAddress} with ${JSON.stringify(device).slice(0, 80)}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
        return true;
      }),
      { numRuns: 60 },
    );
  });
});
