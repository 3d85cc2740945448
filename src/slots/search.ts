/**
 * The slot search, the hottest read: available slots at centres
 * within a radius, soonest first. ST_DWithin on geography (metres) uses the GiST index on
 * test_centers.location; the slots of those centres come from the partial index
 * time_slots_available (center_id, test_type, start_time) WHERE status = 'AVAILABLE'.
 */
import type { Queryable } from '../db/types.js';
import type { TestType } from './test-types.js';

export const METRES_PER_MILE = 1609.344;

export interface SlotSearch {
  latitude: number;
  longitude: number;
  radiusMiles: number;
  testType?: TestType | undefined;
  from: Date;
  to: Date;
  limit: number;
}

export interface FoundSlot {
  id: string;
  testType: TestType;
  startTime: string;
  endTime: string;
  distanceMiles: number;
  center: { id: string; name: string; postcode: string; latitude: number; longitude: number };
}

/** The search statement; parameters as searchParams() gives them. */
export const SEARCH_SQL = `WITH origin AS (SELECT ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326)::geography AS g)
     SELECT s.id, s.test_type, s.start_time, s.end_time, ST_Distance(c.location, origin.g) AS distance_m,
            c.id AS center_id, c.name, c.postcode, c.latitude, c.longitude
       FROM origin
       JOIN test_centers c ON ST_DWithin(c.location, origin.g, $3::float8) AND c.is_active
       JOIN time_slots s ON s.center_id = c.id
      WHERE s.status = 'AVAILABLE'
        AND s.test_type = ANY($4::test_type[])
        AND s.start_time >= $5::timestamptz AND s.start_time < $6::timestamptz
      ORDER BY s.start_time, s.id
      LIMIT $7::int`;

/** The parameters of SEARCH_SQL for a search. */
export function searchParams(q: SlotSearch): unknown[] {
  // every type when none is asked for: an = ANY the index can use, unlike "$4 IS NULL OR ..."
  return [q.latitude, q.longitude, q.radiusMiles * METRES_PER_MILE, q.testType ? [q.testType] : ['practical', 'theory'], q.from, q.to, q.limit];
}

/** Available slots within the radius, ordered by start time (then id, so pages are stable). */
export async function searchSlots(db: Queryable, q: SlotSearch): Promise<FoundSlot[]> {
  const { rows } = await db.query<{
    id: string; test_type: TestType; start_time: Date; end_time: Date; distance_m: number;
    center_id: string; name: string; postcode: string; latitude: number; longitude: number;
  }>(
    SEARCH_SQL,
    searchParams(q),
  );
  return rows.map((r) => ({
    id: r.id,
    testType: r.test_type,
    startTime: r.start_time.toISOString(),
    endTime: r.end_time.toISOString(),
    distanceMiles: Math.round((r.distance_m / METRES_PER_MILE) * 100) / 100,
    center: { id: r.center_id, name: r.name, postcode: r.postcode, latitude: r.latitude, longitude: r.longitude },
  }));
}
