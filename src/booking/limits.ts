/**
 * What keeps one learner from hoarding slots, beyond a slot's own state: one live booking
 * per test type (the exclusion constraint appointments_one_per_test_type, checked first
 * here so the usual refusal is an answer rather than an error), and a cooldown before
 * they may hold again a slot whose hold of theirs ended unconfirmed (expired or
 * cancelled), so that its release reaches the learners it was released to first.
 */
import { REHOLD_COOLDOWN_SECONDS_DEFAULT, settingSql } from '../settings/definitions.js';
import { TEST_TYPE_NAMES, type TestType } from '../slots/test-types.js';
import type { Queryable } from '../db/types.js';
import { BookingRefusal } from './errors.js';

/** The columns of LIMITS_CTE. */
export interface Limits {
  /** rehold_cooldown_seconds now. */
  rehold_seconds: number;
  /** The caller's booking of the slot's test type whose test has not ended, if any. */
  booked_id: string | null;
  /** Seconds left of the caller's cooldown on this slot: refused while above 0 (null: none). */
  rehold_wait: number | null;
}

/**
 * One row, `limits`, for the caller ($1::uuid) and the slot ($2::uuid). The cooldown runs
 * from the hold's cancelled_at, which is when its slot was released (by the sweep, by the
 * learner's cancel, or inline by another hold). A booking that was confirmed and then
 * cancelled starts no cooldown: it was never a hold left to lapse.
 */
export const LIMITS_CTE = `
 limits AS (
   SELECT c.secs::int AS rehold_seconds,
          (SELECT b.id FROM appointments b
            WHERE b.user_id = $1::uuid AND b.status = 'CONFIRMED' AND upper(b.slot_period) > now()
              AND b.test_type = (SELECT t.test_type FROM time_slots t WHERE t.id = $2::uuid)
            LIMIT 1) AS booked_id,
          (SELECT ceil(extract(epoch FROM max(r.cancelled_at) - clock_timestamp()) + c.secs)::int
             FROM appointments r
            WHERE r.slot_id = $2::uuid AND r.user_id = $1::uuid AND r.status = 'CANCELLED' AND r.confirmed_at IS NULL) AS rehold_wait
     FROM (SELECT ${settingSql('rehold_cooldown_seconds', String(REHOLD_COOLDOWN_SECONDS_DEFAULT))} AS secs) c)`;

/** A refusal for REHOLD_TOO_SOON, with the seconds left as its Retry-After. */
export function reholdRefusal(seconds: number): BookingRefusal {
  return new BookingRefusal('REHOLD_TOO_SOON', `your hold on this slot has just ended and the slot has gone to others first; you may hold it again in ${seconds} s`, seconds);
}

/**
 * ALREADY_BOOKED, naming the caller's live appointment of the slot's test type (found anew:
 * the constraint's error names none, and the refusal may follow a rollback).
 */
export async function alreadyBookedRefusal(db: Queryable, userId: string, slotId: string): Promise<BookingRefusal> {
  const { rows } = await db.query<{ status: string; test_type: TestType; start: string; centre: string }>(
    `SELECT a.status, a.test_type::text AS test_type, c.name AS centre,
            to_char(s.start_time AT TIME ZONE 'Europe/London', 'FMDay FMDD FMMonth YYYY "at" HH24:MI') AS start
       FROM appointments a
       JOIN time_slots s ON s.id = a.slot_id
       JOIN test_centers c ON c.id = s.center_id
      WHERE a.user_id = $1::uuid AND a.status IN ('HOLD', 'CONFIRMED') AND upper(a.slot_period) > now() AND a.slot_id <> $2::uuid
        AND a.test_type = (SELECT t.test_type FROM time_slots t WHERE t.id = $2::uuid)
      ORDER BY a.status = 'CONFIRMED' DESC, s.start_time
      LIMIT 1`,
    [userId, slotId],
  );
  const a = rows[0];
  if (!a) return new BookingRefusal('ALREADY_BOOKED', 'you already have a booking of this test type; cancel it first');
  const test = TEST_TYPE_NAMES[a.test_type];
  const what = a.status === 'CONFIRMED' ? `have a confirmed ${test}` : `hold a slot for a ${test}`;
  return new BookingRefusal('ALREADY_BOOKED', `you already ${what} on ${a.start} at ${a.centre}; cancel it first (one booking per test type at a time)`);
}
