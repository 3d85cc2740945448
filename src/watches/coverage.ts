/**
 * The "My watches" view: each of a learner's watches with the test centres it covers and
 * how many slots are free at each right now, counted as matching counts them (test types,
 * and the date window on the slot's Europe/London date). Read-only.
 */
import type { Queryable } from '../db/types.js';
import { METRES_PER_MILE } from '../slots/search.js';
import { listWatches, type Watch } from './watches.js';

/** Centres shown per watch, nearest first: a 100-mile watch can cover hundreds. */
export const CENTERS_PER_WATCH = 20;

export interface CoveredCenter {
  id: string;
  name: string;
  postcode: string;
  distanceMiles: number;
  freeSlots: number;
}

export interface WatchCoverage extends Watch {
  /** Every active centre within the radius (the nearest CENTERS_PER_WATCH are listed). */
  centerCount: number;
  /** Free slots at the listed centres. */
  freeSlots: number;
  centers: CoveredCenter[];
}

interface CenterRow {
  watch_id: string; id: string | null; name: string; postcode: string; distance_m: number; free_slots: number; center_count: number;
}

/**
 * The watches of `userId`, oldest first, each with its covered centres and free slots. The
 * watches themselves come from `db` (the primary: a watch just placed is listed); the counts
 * may come from `counts`, a replica a moment behind, unless it does not have every watch yet
 * (then they are counted on `db` too, rather than show a new watch covering nothing).
 */
export async function watchCoverage(db: Queryable, userId: string, counts: Queryable = db): Promise<WatchCoverage[]> {
  const watches = await listWatches(db, userId, 'oldest');
  if (watches.length === 0) return [];
  let centers = await coveredCenters(counts, userId);
  const seen = new Set(centers.map((r) => r.watch_id));
  if (counts !== db && watches.some((w) => !seen.has(w.id))) centers = await coveredCenters(db, userId);
  const byWatch = new Map<string, CenterRow[]>();
  for (const row of centers) if (row.id !== null) byWatch.set(row.watch_id, [...(byWatch.get(row.watch_id) ?? []), row]);
  return watches.map((w) => {
    const rows = byWatch.get(w.id) ?? [];
    return {
      ...w,
      centerCount: rows[0]?.center_count ?? 0,
      freeSlots: rows.reduce((n, r) => n + r.free_slots, 0),
      centers: rows.map((r) => ({
        id: r.id!,
        name: r.name,
        postcode: r.postcode,
        distanceMiles: Math.round((r.distance_m / METRES_PER_MILE) * 10) / 10,
        freeSlots: r.free_slots,
      })),
    };
  });
}

/**
 * One statement for every watch: the nearest centres of each (GiST on test_centers.location)
 * and, per centre, its free future slots of the watch's types inside its date window. A watch
 * with no centre in reach still has its row (centre id null), so a missing watch means the
 * database read does not have it yet.
 */
async function coveredCenters(db: Queryable, userId: string): Promise<CenterRow[]> {
  const { rows } = await db.query<CenterRow>(
    `SELECT p.id AS watch_id, c.id, c.name, c.postcode, c.distance_m, c.center_count, f.free_slots
       FROM user_preferences p
       LEFT JOIN LATERAL (
             SELECT tc.id, tc.name, tc.postcode, ST_Distance(tc.location, p.location) AS distance_m,
                    count(*) OVER ()::int AS center_count
               FROM test_centers tc
              WHERE tc.is_active AND ST_DWithin(tc.location, p.location, p.radius_miles::float8 * $2::float8)
              ORDER BY distance_m, tc.id
              LIMIT $3::int) c ON true
       LEFT JOIN LATERAL (
             SELECT count(*)::int AS free_slots
               FROM time_slots s
              WHERE s.center_id = c.id AND s.status = 'AVAILABLE' AND s.start_time > now()
                AND p.preferred_test_types ? s.test_type::text
                AND (p.earliest_date IS NULL OR (s.start_time AT TIME ZONE 'Europe/London')::date >= p.earliest_date)
                AND (p.latest_date IS NULL OR (s.start_time AT TIME ZONE 'Europe/London')::date <= p.latest_date)) f ON true
      WHERE p.user_id = $1::uuid
      ORDER BY p.id, c.distance_m, c.id`,
    [userId, METRES_PER_MILE, CENTERS_PER_WATCH],
  );
  return rows;
}
