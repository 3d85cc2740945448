/**
 * Matching agrees with an independent geodesic computation (Karney's algorithm, from
 * geographiclib-geodesic) on thousands of random watches around real centres: none more
 * than a metre inside its radius is missed, none more than a metre outside is alerted.
 * Many watches are placed within metres of their circle's edge, where an approximation
 * (a sphere, a planar box, a buffer polygon) would go wrong.
 */
import geodesic from 'geographiclib-geodesic';
import { describe, expect, it } from 'vitest';
import { INSERT_ALERTS_SQL } from '../../src/alerts/store.js';
import { matchReleaseBatch } from '../../src/alerts/match.js';
import { insertCenters, loadCenters, prng, type CenterRow } from '../../dev/centers.js';
import { useTestContext } from '../helpers/context.js';

const ctx = useTestContext();
const WGS84 = geodesic.Geodesic.WGS84;
const MILE = 1609.344;

interface W {
  userId?: string;
  latitude: number;
  longitude: number;
  radiusMiles: number;
}

describe('geodesic agreement', () => {
  it('alerts every watch more than 1 m inside its radius and none more than 1 m outside', async () => {
    const rand = prng(7);
    const { centers: all } = loadCenters();
    const step = Math.max(1, Math.floor(all.length / 40));
    const centres: CenterRow[] = all.filter((_, i) => i % step === 0).slice(0, 40);
    // two far from Britain: near the antimeridian at high latitude, and in the south
    centres.push({ externalId: 'far-north', name: 'Far north', postcode: 'XX1 1XX', latitude: 69.5, longitude: 179.8 });
    centres.push({ externalId: 'far-south', name: 'Far south', postcode: 'XX2 2XX', latitude: -45.2, longitude: -179.9 });
    const centreIds = await insertCenters(ctx.pool, centres);

    const watches: W[] = [];
    for (let i = 0; i < 4000; i++) {
      const c = centres[Math.floor(rand() * centres.length)]!;
      const radiusMiles = Math.round((1 + rand() * 99) * 100) / 100; // numeric(6,2), as stored
      const r = radiusMiles * MILE;
      const kind = rand();
      const d =
        kind < 0.4
          ? r * (1 + (rand() - 0.5) * 0.004) // within 0.2% of the edge
          : kind < 0.7
            ? r + (rand() < 0.5 ? -1 : 1) * (1.5 + rand() * 30) // 1.5 to 31.5 m from the edge
            : rand() * r * 1.6;
      const p = WGS84.Direct(c.latitude, c.longitude, rand() * 360 - 180, d);
      watches.push({ latitude: p.lat2!, longitude: ((p.lon2! + 540) % 360) - 180, radiusMiles });
    }

    const users = await ctx.pool.query<{ id: string }>(
      `INSERT INTO users (email, password_hash, email_verified_at)
       SELECT 'geo' || g || '@example.com', 'x', now() FROM generate_series(1, $1::int) g ORDER BY g RETURNING id`,
      [watches.length],
    );
    users.rows.forEach((u, i) => (watches[i]!.userId = u.id));
    await ctx.pool.query(
      `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, preferred_test_types)
       SELECT u, la, lo, r, '["practical","theory"]'::jsonb FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::numeric[]) AS t (u, la, lo, r)`,
      [watches.map((w) => w.userId), watches.map((w) => w.latitude), watches.map((w) => w.longitude), watches.map((w) => w.radiusMiles)],
    );
    const slots = await ctx.pool.query<{ id: string; center_id: string }>(
      `INSERT INTO time_slots (center_id, test_type, start_time, end_time)
       SELECT c, 'practical', timestamptz '2031-03-03 09:00Z', timestamptz '2031-03-03 10:00Z' FROM unnest($1::uuid[]) c
       RETURNING id, center_id`,
      [centreIds],
    );
    // the plan reads the coverage index alone (VACUUM sets the visibility map that an
    // index-only scan needs), neither the watches nor the whole coverage table
    await ctx.pool.query(`VACUUM ANALYZE watch_coverage`);
    await ctx.pool.query(`ANALYZE time_slots`);
    const plan = await ctx.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${INSERT_ALERTS_SQL}`, [slots.rows.slice(0, 10).map((s) => s.id)]);
    const planText = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(planText).toMatch(/Index Only Scan using watch_coverage_match on watch_coverage/);
    expect(planText).not.toMatch(/user_preferences/);
    expect(planText).not.toMatch(/Seq Scan on watch_coverage/);

    while ((await matchReleaseBatch(ctx.pool, 10)).releases > 0);

    const { rows: alerts } = await ctx.pool.query<{ user_id: string; slot_id: string }>(`SELECT user_id, slot_id FROM user_alerts`);
    const got = new Set(alerts.map((a) => `${a.user_id}|${a.slot_id}`));
    const slotByCentre = new Map(slots.rows.map((s) => [s.center_id, s.id]));

    const missed: string[] = [];
    const wrong: string[] = [];
    let inside = 0;
    let outside = 0;
    let nearEdge = 0;
    centres.forEach((c, ci) => {
      const slotId = slotByCentre.get(centreIds[ci]!)!;
      for (const w of watches) {
        const s12 = WGS84.Inverse(c.latitude, c.longitude, w.latitude, w.longitude).s12!;
        const r = w.radiusMiles * MILE;
        const key = `${w.userId}|${slotId}`;
        if (Math.abs(s12 - r) <= 50) nearEdge++;
        if (s12 < r - 1) {
          inside++;
          if (!got.has(key)) missed.push(`${c.name}: ${s12.toFixed(2)} m, radius ${r.toFixed(2)} m`);
        } else if (s12 > r + 1) {
          outside++;
          if (got.has(key)) wrong.push(`${c.name}: ${s12.toFixed(2)} m, radius ${r.toFixed(2)} m`);
        }
      }
    });
    expect(missed.slice(0, 10)).toEqual([]);
    expect(wrong.slice(0, 10)).toEqual([]);
    // the comparison meant something: many pairs each side, thousands within 50 m of the edge
    expect(inside).toBeGreaterThan(1000);
    expect(outside).toBeGreaterThan(100_000);
    expect(nearEdge).toBeGreaterThan(1500);
  });
});
