/** Writing a validated feed into time_slots, keyed by (source, external_id). */
import type { Queryable } from '../db/types.js';
import { MalformedFeedError, type FeedSlot } from './feeds/feed.js';

export interface UpsertResult {
  inserted: number;
  updated: number;
}

/**
 * Upserts the feed's slots; run it inside a transaction. A centre the database does not
 * know refuses the whole feed before anything is written. New slots are AVAILABLE or
 * BOOKED as the feed says (an AVAILABLE one enters the alert loop through the outbox
 * trigger, reason 'feed'); an existing slot takes the feed's times, centre, type and
 * status, except that a slot someone holds or booked here keeps its status.
 */
export async function upsertFeedSlots(tx: Queryable, source: string, slots: FeedSlot[]): Promise<UpsertResult> {
  if (!slots.length) return { inserted: 0, updated: 0 };
  const centres = [...new Set(slots.map((s) => s.centreExternalId))];
  const missing = await tx.query<{ c: string }>(
    `SELECT t.c FROM unnest($1::text[]) AS t (c)
      WHERE NOT EXISTS (SELECT 1 FROM test_centers tc WHERE tc.external_id = t.c)
      ORDER BY t.c LIMIT 5`,
    [centres],
  );
  if (missing.rows.length) throw new MalformedFeedError(`unknown centre ${missing.rows.map((r) => `"${r.c}"`).join(', ')}`);

  await tx.query(`SELECT set_config('slotwatch.release_reason', 'feed', true)`);
  const { rows } = await tx.query<{ inserted: boolean }>(
    `INSERT INTO time_slots (center_id, test_type, start_time, end_time, status, source, external_id)
     SELECT tc.id, t.test_type, t.start_time, t.end_time,
            CASE WHEN t.available THEN 'AVAILABLE' ELSE 'BOOKED' END::timeslot_status, $1::text, t.external_id
       FROM unnest($2::text[], $3::text[], $4::test_type[], $5::timestamptz[], $6::timestamptz[], $7::boolean[])
              AS t (external_id, centre, test_type, start_time, end_time, available)
       JOIN test_centers tc ON tc.external_id = t.centre
     ON CONFLICT (source, external_id) DO UPDATE
        SET center_id = EXCLUDED.center_id,
            test_type = EXCLUDED.test_type,
            start_time = EXCLUDED.start_time,
            end_time = EXCLUDED.end_time,
            status = CASE WHEN EXISTS (SELECT 1 FROM appointments a
                                        WHERE a.slot_id = time_slots.id AND a.status IN ('HOLD', 'CONFIRMED'))
                          THEN time_slots.status ELSE EXCLUDED.status END
      -- an unchanged slot is left alone (no new row version, no updated_at churn)
      WHERE (time_slots.center_id, time_slots.test_type, time_slots.start_time, time_slots.end_time, time_slots.status)
            IS DISTINCT FROM (EXCLUDED.center_id, EXCLUDED.test_type, EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.status)
     RETURNING (xmax = 0) AS inserted`,
    [
      source,
      slots.map((s) => s.externalId),
      slots.map((s) => s.centreExternalId),
      slots.map((s) => s.testType),
      slots.map((s) => s.start.toISOString()),
      slots.map((s) => s.end.toISOString()),
      slots.map((s) => s.available),
    ],
  );
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted };
}
