/** /api/me/preferences: a learner's watches, validated, placed (postcode offline) and matched. */
import { describe, expect, it } from 'vitest';
import { matchReleaseBatch } from '../../src/alerts/match.js';
import { MAX_WATCHES_PER_USER } from '../../src/watches/watches.js';
import { useTestApp } from '../helpers/app.js';
import { insertSlot } from '../helpers/factories.js';

const t = useTestApp();

const body = (o: Record<string, unknown> = {}) => ({
  location: { latitude: 51.5, longitude: -0.12 },
  radiusMiles: 15,
  method: 'email',
  testTypes: ['practical'],
  ...o,
});

async function count(userId: string) {
  const { rows } = await t.ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_preferences WHERE user_id = $1`, [userId]);
  return rows[0]!.n;
}

describe('/api/me/preferences', () => {
  it('needs a signed-in user', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/me/preferences' });
    expect(res.statusCode).toBe(401);
  });

  it('creates, lists, replaces and deletes a watch', async () => {
    const me = await t.signedIn();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/me/preferences',
      headers: t.auth(me.token),
      payload: body({ label: ' Home ', earliestDate: '2031-02-01', latestDate: '2031-03-01', testTypes: ['theory', 'practical'], method: 'push' }),
    });
    expect(created.statusCode).toBe(201);
    const w = created.json().preference;
    expect(w).toMatchObject({
      label: 'Home',
      location: { latitude: 51.5, longitude: -0.12 },
      postcode: null,
      precision: null,
      radiusMiles: 15,
      method: 'push',
      testTypes: ['practical', 'theory'],
      earliestDate: '2031-02-01',
      latestDate: '2031-03-01',
      isActive: true,
    });
    const listed = await t.app.inject({ method: 'GET', url: '/api/me/preferences', headers: t.auth(me.token) });
    expect(listed.json()).toEqual({ preferences: [w] });

    const replaced = await t.app.inject({
      method: 'PUT',
      url: `/api/me/preferences/${w.id}`,
      headers: t.auth(me.token),
      payload: body({ radiusMiles: 42.5, isActive: false }),
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().preference).toMatchObject({ id: w.id, radiusMiles: 42.5, isActive: false, label: null, earliestDate: null, method: 'email' });

    const other = await t.signedIn();
    expect((await t.app.inject({ method: 'PUT', url: `/api/me/preferences/${w.id}`, headers: t.auth(other.token), payload: body() })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/me/preferences/${w.id}`, headers: t.auth(other.token) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/me/preferences/${w.id}`, headers: t.auth(me.token) })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/me/preferences/${w.id}`, headers: t.auth(me.token) })).statusCode).toBe(404);
    expect(await count(me.id)).toBe(0);
  });

  it('places a postcode offline, however it is written: its own point once imported, else the centre of its outward code', async () => {
    const me = await t.signedIn();
    const place = (postcode: string) =>
      t.app.inject({ method: 'POST', url: '/api/me/preferences', headers: t.auth(me.token), payload: { postcode, radiusMiles: 10, method: 'email', testTypes: ['practical'] } });
    const before = await place('n228le');
    expect(before.statusCode).toBe(201);
    // N22's centre, from the shipped data/uk-outcodes.csv
    expect(before.json().preference).toMatchObject({ postcode: 'N22 8LE', precision: 'outcode', location: { latitude: 51.59993, longitude: -0.11412 } });
    await t.ctx.pool.query(`INSERT INTO postcodes (postcode, latitude, longitude) VALUES ('N22 8LE', 51.5973, -0.1095)`);
    const after = await place(' N22  8le ');
    expect(after.json().preference).toMatchObject({ postcode: 'N22 8LE', precision: 'postcode', location: { latitude: 51.5973, longitude: -0.1095 } });
    const outcode = await place('n22');
    expect(outcode.json().preference).toMatchObject({ postcode: 'N22', precision: 'outcode', location: { latitude: 51.59993, longitude: -0.11412 } });
  });

  it('refuses an unknown or malformed postcode with a 400 that says so, writing nothing', async () => {
    const me = await t.signedIn();
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/me/preferences',
      headers: t.auth(me.token),
      payload: { postcode: 'ZZ9 9ZZ', radiusMiles: 10, method: 'email', testTypes: ['practical'] },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('UNKNOWN_POSTCODE');
    expect(unknown.json().error.message).toMatch(/ZZ9 9ZZ/);
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/me/preferences',
      headers: t.auth(me.token),
      payload: { postcode: '12345', radiusMiles: 10, method: 'email', testTypes: ['practical'] },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('INVALID_POSTCODE');
    expect(await count(me.id)).toBe(0);
  });

  const invalid: [string, Record<string, unknown>][] = [
    ['both location and postcode', body({ postcode: 'N22 8LE' })],
    ['neither location nor postcode', { radiusMiles: 10, method: 'email', testTypes: ['practical'] }],
    ['a zero radius', body({ radiusMiles: 0 })],
    ['a radius over 100 miles', body({ radiusMiles: 100.5 })],
    ['a radius given as text', body({ radiusMiles: '10' })],
    ['a latitude out of range', body({ location: { latitude: 91, longitude: 0 } })],
    ['no test types', body({ testTypes: [] })],
    ['an unknown test type', body({ testTypes: ['motorcycle'] })],
    ['an unknown method', body({ method: 'sms' })],
    ['a date that does not exist', body({ earliestDate: '2031-02-30' })],
    ['a window that ends before it starts', body({ earliestDate: '2031-03-02', latestDate: '2031-03-01' })],
    ['an unknown field', body({ colour: 'blue' })],
    ['a label over 100 characters', body({ label: 'x'.repeat(101) })],
  ];
  for (const [what, payload] of invalid) {
    it(`refuses ${what} with a 400, writing nothing`, async () => {
      const me = await t.signedIn();
      const res = await t.app.inject({ method: 'POST', url: '/api/me/preferences', headers: t.auth(me.token), payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) });
      expect(await count(me.id)).toBe(0);
    });
  }

  it(`keeps at most ${MAX_WATCHES_PER_USER} watches per user, even when asked at once`, async () => {
    const me = await t.signedIn();
    const results = await Promise.all(
      Array.from({ length: MAX_WATCHES_PER_USER + 5 }, () =>
        t.app.inject({ method: 'POST', url: '/api/me/preferences', headers: t.auth(me.token), payload: body() }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(MAX_WATCHES_PER_USER);
    expect(results.filter((r) => r.statusCode === 409).map((r) => r.json().error.code)).toEqual(Array(5).fill('TOO_MANY_WATCHES'));
    expect(await count(me.id)).toBe(MAX_WATCHES_PER_USER);
  });

  it('a watch made here is matched when a slot is released near it', async () => {
    const { rows } = await t.ctx.pool.query<{ id: string }>(
      `INSERT INTO test_centers (name, postcode, latitude, longitude) VALUES ('Inverness', 'IV2 4BJ', 57.4778, -4.2247) RETURNING id`,
    );
    const me = await t.signedIn();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/me/preferences',
      headers: t.auth(me.token),
      payload: body({ location: { latitude: 57.5, longitude: -4.2 }, radiusMiles: 5 }),
    });
    expect(res.statusCode).toBe(201);
    const slot = await insertSlot(t.ctx.pool, { centerId: rows[0]!.id });
    while ((await matchReleaseBatch(t.ctx.pool, 100)).releases > 0);
    const alerts = await t.ctx.pool.query(`SELECT user_id, preference_id FROM user_alerts WHERE slot_id = $1`, [slot.id]);
    expect(alerts.rows).toEqual([{ user_id: me.id, preference_id: res.json().preference.id }]);
  });
});
