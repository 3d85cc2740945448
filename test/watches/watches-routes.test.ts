/**
 * /api/me/watches: the watch routes by their own name, the coverage the "My watches" page
 * lists, and the older paths kept as aliases answering the same watches under their old keys.
 */
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';

const t = useTestApp();

const body = (o: Record<string, unknown> = {}) => ({ location: { latitude: 53.8008, longitude: -1.5491 }, radiusMiles: 20, method: 'email', testTypes: ['practical'], ...o });

describe('/api/me/watches', () => {
  it('creates, lists, replaces and deletes a watch, answering with "watch" and "watches"', async () => {
    const me = await t.signedIn();
    const created = await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: t.auth(me.token), payload: body({ label: 'Leeds' }) });
    expect(created.statusCode).toBe(201);
    const w = created.json().watch;
    expect(w).toMatchObject({ label: 'Leeds', location: { latitude: 53.8008, longitude: -1.5491 }, radiusMiles: 20, isActive: true });
    expect((await t.app.inject({ method: 'GET', url: '/api/me/watches', headers: t.auth(me.token) })).json()).toEqual({ watches: [w] });
    // the alias serves the same rows under the keys it always had
    expect((await t.app.inject({ method: 'GET', url: '/api/me/preferences', headers: t.auth(me.token) })).json()).toEqual({ preferences: [w] });

    const replaced = await t.app.inject({ method: 'PUT', url: `/api/me/watches/${w.id}`, headers: t.auth(me.token), payload: body({ radiusMiles: 5 }) });
    expect(replaced.json().watch).toMatchObject({ id: w.id, radiusMiles: 5, label: null });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/me/watches/${w.id}`, headers: t.auth(me.token) })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/me/watches', headers: t.auth(me.token) })).json()).toEqual({ watches: [] });
  });

  it('lists each watch with the centres it covers and their free slots, oldest watch first', async () => {
    const me = await t.signedIn();
    const leeds = await insertCenter(t.ctx.pool, { name: 'Leeds', latitude: 53.8008, longitude: -1.5491, postcode: 'LS1 1UR' });
    await insertCenter(t.ctx.pool, { name: 'Bradford', latitude: 53.795, longitude: -1.7594, postcode: 'BD1 1HY' });
    await insertSlot(t.ctx.pool, { centerId: leeds.id, start: new Date(Date.now() + 3 * 86_400_000) });
    const first = (await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: t.auth(me.token), payload: body({ label: 'first' }) })).json().watch;
    const second = (await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: t.auth(me.token), payload: body({ label: 'second', radiusMiles: 1 }) })).json().watch;

    const res = await t.app.inject({ method: 'GET', url: '/api/me/watches/coverage', headers: t.auth(me.token) });
    expect(res.statusCode).toBe(200);
    const [a, b] = res.json().watches;
    expect(a).toEqual({ ...first, centerCount: 2, freeSlots: 1, centers: [expect.objectContaining({ name: 'Leeds', freeSlots: 1, distanceMiles: 0 }), expect.objectContaining({ name: 'Bradford', freeSlots: 0 })] });
    expect(b).toMatchObject({ ...second, centerCount: 1, freeSlots: 1 });

    const legacy = (await t.app.inject({ method: 'GET', url: '/api/web/watches', headers: t.auth(me.token) })).json().watches[0];
    expect(legacy).toEqual({
      id: first.id, label: 'first', postcode: null, precision: null, latitude: 53.8008, longitude: -1.5491, radiusMiles: 20, method: 'email', testTypes: ['practical'],
      earliestDate: null, latestDate: null, isActive: true, centreCount: 2, freeSlots: 1, centres: a.centers,
    });
    expect((await t.app.inject({ method: 'GET', url: '/api/me/watches/coverage' })).statusCode).toBe(401);
  });
});
