/**
 * Released slots -> user_alerts, as one set-based statement. The n-D GiST index on each
 * watch's match box (migration 0008: a lon/lat box holding its circle, its date window,
 * its test types; migration 0011: only live watches of active users) finds only the
 * watches that could want the slot; the exact geodesic distance on the WGS84 spheroid
 * keeps the true matches. So the work follows the matches, not the number of watches,
 * near or far, and no other table is read per candidate.
 */
import type { Queryable } from '../db/types.js';

export type PriorityTier = 'NORMAL' | 'VIP' | 'URGENT';

export interface NewAlert {
  id: string;
  slotId: string;
  /** The user's tier, which orders delivery. */
  priority: PriorityTier;
  /** The watch's method, which picks the deliveries queue. */
  channel: 'email' | 'push';
}

/** The statement, exported for the benchmark's EXPLAIN; $1 is the slot ids. */
export const INSERT_ALERTS_SQL = `
WITH released AS (
  SELECT s.id AS slot_id,
         s.test_type::text AS test_type,
         d.slot_date,
         c.location,
         slot_match_point(c.latitude, c.longitude, d.slot_date, s.test_type) AS probe
    FROM time_slots s
    JOIN test_centers c ON c.id = s.center_id
    CROSS JOIN LATERAL (SELECT (s.start_time AT TIME ZONE 'Europe/London')::date AS slot_date) d
   WHERE s.id = ANY ($1::uuid[])
     AND s.status = 'AVAILABLE'
  -- the lock a foreign-key check on slot_id took per alert, taken once per slot (migration
  -- 0012): the slot cannot be deleted while its alerts are written
     FOR KEY SHARE OF s
), matched AS (
  -- several watches of one user may cover the slot: keep the nearest, alert once
  SELECT DISTINCT ON (r.slot_id, p.user_id)
         p.user_id, r.slot_id, p.id AS preference_id, p.notification_method, p.user_priority, g.distance_m
    FROM released r
    -- user_active is the user's is_active, kept on the watch by triggers (migration 0011)
    JOIN user_preferences p ON p.match_box &&& r.probe AND p.is_active AND p.user_active
    -- geodesic (Karney) distance on the spheroid, computed once and used for both the test and the order
    CROSS JOIN LATERAL (SELECT ST_Distance(p.location, r.location, true) AS distance_m) g
   WHERE g.distance_m <= p.radius_miles::double precision * 1609.344
     -- the box is a bound (stored as float4 in the index): the exact rules are checked again
     AND p.preferred_test_types ? r.test_type
     AND (p.earliest_date IS NULL OR p.earliest_date <= r.slot_date)
     AND (p.latest_date IS NULL OR r.slot_date <= p.latest_date)
   ORDER BY r.slot_id, p.user_id, g.distance_m
)
INSERT INTO user_alerts (user_id, slot_id, preference_id, distance_m, channel, priority)
-- the unique key's order: one order for every writer keeps concurrent batches from
-- deadlocking on it, and a slot's alerts land side by side in it
SELECT user_id, slot_id, preference_id, distance_m, notification_method, user_priority FROM matched ORDER BY slot_id, user_id
ON CONFLICT (slot_id, user_id) DO NOTHING
-- the tier comes with the watch (migration 0013), so no users row is read per alert
RETURNING id, slot_id, priority::text AS priority, channel::text AS channel`;

/** Inserts the alerts that the given (still AVAILABLE) slots owe; returns only those newly written. */
export async function insertAlertsForSlots(db: Queryable, slotIds: string[]): Promise<NewAlert[]> {
  if (!slotIds.length) return [];
  const { rows } = await db.query<{ id: string; slot_id: string; priority: PriorityTier; channel: NewAlert['channel'] }>(INSERT_ALERTS_SQL, [slotIds]);
  return rows.map((r) => ({ id: r.id, slotId: r.slot_id, priority: r.priority, channel: r.channel }));
}
