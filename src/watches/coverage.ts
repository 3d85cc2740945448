/**
 * The "My watches" view: each of a learner's watches with the test centres it covers and
 * how many slots are free at each right now, counted as matching counts them (test types,
 * and the date window on the slot's Europe/London date). Read-only; the watches themselves
 * change through the alerts API (/api/me/preferences).
 */
import type { Queryable } from '../db/types.js';
import { METRES_PER_MILE } from '../slots/search.js';

/** Centres shown per watch, nearest first: a 100-mile watch can cover hundreds. */
export const CENTRES_PER_WATCH = 20;

export interface CoveredCentre {
  id: string;
  name: string;
  postcode: string;
  distanceMiles: number;
  freeSlots: number;
}

export interface WatchCoverage {
  id: string;
  label: string | null;
  postcode: string | null;
  latitude: number;
  longitude: number;
  radiusMiles: number;
  method: 'email' | 'push';
  testTypes: string[];
  earliestDate: string | null;
  latestDate: string | null;
  isActive: boolean;
  /** Every active centre within the radius (the nearest CENTRES_PER_WATCH are listed). */
  centreCount: number;
  freeSlots: number;
  centres: CoveredCentre[];
}

interface WatchRow {
  id: string; label: string | null; postcode: string | null; latitude: number; longitude: number; radius_miles: number;
  method: 'email' | 'push'; test_types: string[]; earliest_date: string | null; latest_date: string | null; is_active: boolean;
}

interface CentreRow {
  watch_id: string; id: string; name: string; postcode: string; distance_m: number; free_slots: number; centre_count: number;
}

/** The watches of `userId`, oldest first, each with its covered centres and free slots. */
export async function watchCoverage(db: Queryable, userId: string): Promise<WatchCoverage[]> {
  const watches = await db.query<WatchRow>(
    `SELECT p.id, p.label, p.postcode, p.latitude, p.longitude, p.radius_miles::float8 AS radius_miles,
            p.notification_method::text AS method, p.preferred_test_types AS test_types,
            to_char(p.earliest_date, 'YYYY-MM-DD') AS earliest_date, to_char(p.latest_date, 'YYYY-MM-DD') AS latest_date,
            p.is_active
       FROM user_preferences p
      WHERE p.user_id = $1::uuid
      ORDER BY p.created_at, p.id`,
    [userId],
  );
  if (watches.rows.length === 0) return [];
  // one statement for every watch: the nearest centres of each (GiST on test_centers.location)
  // and, per centre, its free future slots of the watch's types inside its date window
  const centres = await db.query<CentreRow>(
    `SELECT p.id AS watch_id, c.id, c.name, c.postcode, c.distance_m, c.centre_count, f.free_slots
       FROM user_preferences p
      CROSS JOIN LATERAL (
             SELECT tc.id, tc.name, tc.postcode, ST_Distance(tc.location, p.location) AS distance_m,
                    count(*) OVER ()::int AS centre_count
               FROM test_centers tc
              WHERE tc.is_active AND ST_DWithin(tc.location, p.location, p.radius_miles::float8 * $2::float8)
              ORDER BY distance_m, tc.id
              LIMIT $3::int) c
      CROSS JOIN LATERAL (
             SELECT count(*)::int AS free_slots
               FROM time_slots s
              WHERE s.center_id = c.id AND s.status = 'AVAILABLE' AND s.start_time > now()
                AND p.preferred_test_types ? s.test_type::text
                AND (p.earliest_date IS NULL OR (s.start_time AT TIME ZONE 'Europe/London')::date >= p.earliest_date)
                AND (p.latest_date IS NULL OR (s.start_time AT TIME ZONE 'Europe/London')::date <= p.latest_date)) f
      WHERE p.user_id = $1::uuid
      ORDER BY p.id, c.distance_m, c.id`,
    [userId, METRES_PER_MILE, CENTRES_PER_WATCH],
  );
  const byWatch = new Map<string, CentreRow[]>();
  for (const row of centres.rows) byWatch.set(row.watch_id, [...(byWatch.get(row.watch_id) ?? []), row]);
  return watches.rows.map((w) => {
    const rows = byWatch.get(w.id) ?? [];
    return {
      id: w.id,
      label: w.label,
      postcode: w.postcode,
      latitude: w.latitude,
      longitude: w.longitude,
      radiusMiles: w.radius_miles,
      method: w.method,
      testTypes: w.test_types,
      earliestDate: w.earliest_date,
      latestDate: w.latest_date,
      isActive: w.is_active,
      centreCount: rows[0]?.centre_count ?? 0,
      freeSlots: rows.reduce((n, r) => n + r.free_slots, 0),
      centres: rows.map((r) => ({
        id: r.id,
        name: r.name,
        postcode: r.postcode,
        distanceMiles: Math.round((r.distance_m / METRES_PER_MILE) * 10) / 10,
        freeSlots: r.free_slots,
      })),
    };
  });
}
