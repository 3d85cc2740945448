/**
 * Released slots -> user_alerts, as one set-based statement. Which live watches cover
 * which centre (within its radius on the WGS84 spheroid, per test type, with its date
 * window) is settled when a watch or a centre is written: watch_coverage, kept by triggers
 * (migration 0014). So a released slot is an index-only range scan on its centre, test
 * type and date, and the work follows the matches, not the number of watches.
 */
import type { Queryable } from '../db/types.js';

export type PriorityTier = 'NORMAL' | 'VIP' | 'URGENT';

export interface NewAlert {
  id: string;
  slotId: string;
  /** The user's tier, which orders delivery. */
  priority: PriorityTier;
  /** The alert's channel: the method of the watch that matched; it picks the deliveries queue. */
  channel: 'email' | 'push';
}

/** The statement, exported for the benchmark's EXPLAIN; $1 is the slot ids. */
export const INSERT_ALERTS_SQL = `
WITH released AS (
  SELECT s.id AS slot_id, s.center_id, s.test_type,
         (s.start_time AT TIME ZONE 'Europe/London')::date AS slot_date
    FROM time_slots s
   WHERE s.id = ANY ($1::uuid[])
     AND s.status = 'AVAILABLE'
  -- the lock a foreign-key check on slot_id took per alert, taken once per slot (migration
  -- 0012): the slot cannot be deleted while its alerts are written
     FOR KEY SHARE OF s
), candidates AS (
  -- every live watch whose coverage holds the slot's centre, type and date: an index-only
  -- scan of watch_coverage_match per slot. The released slots are sorted by id here
  -- (PostgreSQL 15 carries no order out of a CTE or through a row lock), so that this sort
  -- is incremental: one slot's candidates at a time, in memory, however big the batch.
  SELECT r.slot_id, w.user_id, w.distance_m, w.preference_id, w.notification_method, w.user_priority
    FROM (SELECT * FROM released ORDER BY slot_id) r
    JOIN watch_coverage w
      ON w.center_id = r.center_id AND w.test_type = r.test_type AND w.latest_date >= r.slot_date
   WHERE w.earliest_date <= r.slot_date
   ORDER BY r.slot_id, w.user_id, w.distance_m, w.preference_id
), matched AS (
  -- several watches of one user may cover the slot: keep the nearest, alert once. Apart
  -- from the sort above because PostgreSQL 15 sorts for DISTINCT ON only in full.
  SELECT DISTINCT ON (slot_id, user_id) *
    FROM candidates
   ORDER BY slot_id, user_id, distance_m, preference_id
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
  const { rows } = await db.query<{ id: string; slot_id: string; priority: PriorityTier; channel: 'email' | 'push' }>(INSERT_ALERTS_SQL, [slotIds]);
  return rows.map((r) => ({ id: r.id, slotId: r.slot_id, priority: r.priority, channel: r.channel }));
}
