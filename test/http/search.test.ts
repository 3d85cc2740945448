/** GET /api/slots: within the radius (geodesic metres), available only, soonest first, index-backed. */
import geodesic from 'geographiclib-geodesic';
import { describe, expect, it } from 'vitest';
import { SEARCH_SQL, searchParams } from '../../src/slots/search.js';
import { insertCenter, insertSlot, insertSpecialist } from '../helpers/factories.js';
import { useTestApp } from '../helpers/app.js';

const t = useTestApp();
const WGS84 = geodesic.Geodesic.WGS84;
const MILE = 1609.344;
const origin = { lat: 53.4808, lon: -2.2426 }; // Manchester

/** A point `miles` due north of the origin (geodesic). */
function north(miles: number) {
  const r = WGS84.Direct(origin.lat, origin.lon, 0, miles * MILE);
  return { latitude: r.lat2!, longitude: r.lon2! };
}

describe('slot search', () => {
  it('finds available slots within the radius, soonest first, with distanceMiles', async () => {
    const db = t.ctx.pool;
    const near = await insertCenter(db, { name: 'Near', ...north(5) });
    const edge = await insertCenter(db, { name: 'Edge', ...north(24.9) });
    const far = await insertCenter(db, { name: 'Far', ...north(25.2) });
    const day = Date.now() + 10 * 86_400_000;
    const at = (h: number) => new Date(day + h * 3_600_000);
    const sNear = await insertSpecialist(db, near.id);
    const sEdge = await insertSpecialist(db, edge.id);
    const sFar = await insertSpecialist(db, far.id);
    const late = await insertSlot(db, { centerId: near.id, specialistId: sNear.id, start: at(5) });
    const early = await insertSlot(db, { centerId: edge.id, specialistId: sEdge.id, start: at(1) });
    const theory = await insertSlot(db, { centerId: near.id, specialistId: sNear.id, start: at(3), testType: 'theory' });
    await insertSlot(db, { centerId: near.id, specialistId: sNear.id, start: at(2), status: 'BOOKED' });
    await insertSlot(db, { centerId: far.id, specialistId: sFar.id, start: at(0) });
    await insertSlot(db, { centerId: near.id, specialistId: sNear.id, start: new Date(Date.now() - 3_600_000), minutes: 30 }); // past

    const res = await t.app.inject({ method: 'GET', url: `/api/slots?lat=${origin.lat}&lon=${origin.lon}&radiusMiles=25` });
    expect(res.statusCode).toBe(200);
    const found = res.json().slots as { id: string; distanceMiles: number; testType: string; center: { name: string } }[];
    expect(found.map((s) => s.id)).toEqual([early.id, theory.id, late.id]);
    expect(found[0]!.distanceMiles).toBeCloseTo(24.9, 1);
    expect(found[2]!.distanceMiles).toBeCloseTo(5, 1);
    expect(found[0]!.center.name).toBe('Edge');

    const practical = await t.app.inject({ method: 'GET', url: `/api/slots?lat=${origin.lat}&lon=${origin.lon}&testType=practical&limit=1` });
    expect(practical.json().slots.map((s: { id: string }) => s.id)).toEqual([early.id]);

    const window = await t.app.inject({ method: 'GET', url: `/api/slots?lat=${origin.lat}&lon=${origin.lon}&from=${at(2).toISOString()}&to=${at(4).toISOString()}` });
    expect(window.json().slots.map((s: { id: string }) => s.id)).toEqual([theory.id]);
  });

  it('rejects bad queries with 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['lat=91&lon=0', /querystring\/lat/],
      ['lat=abc&lon=0', /querystring\/lat/],
      ['lon=0', /missing required field "lat"/],
      ['lat=1&lon=0&radiusMiles=0', /querystring\/radiusMiles/],
      ['lat=1&lon=0&limit=1000', /querystring\/limit/],
      ['lat=1&lon=0&testType=oral', /querystring\/testType must be one of "practical", "theory"/],
      ['lat=1&lon=0&colour=red', /unknown field "colour"/],
      ['lat=1&lon=0&from=yesterday', /querystring\/from/],
      ['lat=1&lon=0&from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', /to must be after from/],
      ["lat=1'%3B DROP TABLE time_slots--&lon=0", /querystring\/lat/],
    ];
    for (const [q, message] of cases) {
      const res = await t.app.inject({ method: 'GET', url: `/api/slots?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.message, q).toMatch(message);
    }
  });

  it('answers the real search statement from the indexes (GiST on centre location, partial index on available slots)', async () => {
    const client = await t.ctx.pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const q = { latitude: 53.48, longitude: -2.24, radiusMiles: 25, from: new Date(), to: new Date(Date.now() + 90 * 86_400_000), limit: 50 };
      for (const testType of ['practical', undefined] as const) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${SEARCH_SQL}`, searchParams({ ...q, testType }));
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain('test_centers_location_gist');
        expect(plan).toContain('time_slots_available');
      }
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });
});
