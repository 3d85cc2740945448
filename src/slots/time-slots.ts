/**
 * The time_slots table: every statement that writes it. Operators create slots in bulk,
 * providers' feeds upsert theirs, and booking changes a slot's status through the CTE
 * parts below. Each change of a slot to AVAILABLE is released to the alert loop by the
 * outbox trigger.
 */
import type { Queryable } from '../db/types.js';
import type { FeedSlot } from './feeds/feed.js';
import { setReleaseReason } from './releases.js';
import type { TestType } from './test-types.js';

export interface NewSlot {
  specialistId: string;
  testType: TestType;
  startTime: string;
  endTime: string;
}

/** A slot as the operator API answers it. */
export interface TimeSlot {
  id: string;
  specialistId: string | null;
  centerId: string;
  testType: TestType;
  startTime: string;
  endTime: string;
  status: 'AVAILABLE' | 'HOLD' | 'BOOKED';
}

/** Why a batch was refused, naming the first offending entry. */
export class SlotBatchError extends Error {
  override name = 'SlotBatchError';
  constructor(
    readonly code: 'UNKNOWN_SPECIALIST' | 'SLOT_OVERLAP',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Inserts the slots in one statement, each at its examiner's centre, in the order given;
 * all or nothing. Unknown examiners and overlaps (the exclusion constraint: an examiner
 * cannot be in two slots at once) are SlotBatchErrors.
 */
export async function createSlots(db: Queryable, slots: NewSlot[]): Promise<TimeSlot[]> {
  const ids = [...new Set(slots.map((s) => s.specialistId))];
  const known = await db.query<{ id: string }>(
    `SELECT id FROM specialists WHERE id = ANY($1::uuid[]) AND is_active`,
    [ids],
  );
  const knownIds = new Set(known.rows.map((r) => r.id));
  const unknown = slots.findIndex((s) => !knownIds.has(s.specialistId));
  if (unknown >= 0) throw new SlotBatchError('UNKNOWN_SPECIALIST', `slots/${unknown}/specialistId names no active specialist`);
  try {
    const { rows } = await db.query<{ id: string; specialist_id: string | null; center_id: string; test_type: TestType; start_time: Date; end_time: Date; status: TimeSlot['status'] }>(
      `INSERT INTO time_slots (specialist_id, center_id, test_type, start_time, end_time)
       SELECT x.specialist_id, sp.center_id, x.test_type, x.start_time, x.end_time
         FROM unnest($1::uuid[], $2::test_type[], $3::timestamptz[], $4::timestamptz[])
              WITH ORDINALITY AS x(specialist_id, test_type, start_time, end_time, n)
         JOIN specialists sp ON sp.id = x.specialist_id
        ORDER BY x.n
       RETURNING id, specialist_id, center_id, test_type, start_time, end_time, status`,
      [slots.map((s) => s.specialistId), slots.map((s) => s.testType), slots.map((s) => s.startTime), slots.map((s) => s.endTime)],
    );
    return rows.map((r) => ({
      id: r.id,
      specialistId: r.specialist_id,
      centerId: r.center_id,
      testType: r.test_type,
      startTime: r.start_time.toISOString(),
      endTime: r.end_time.toISOString(),
      status: r.status,
    }));
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e.code === '23P01' && e.constraint === 'time_slots_specialist_no_overlap') {
      throw new SlotBatchError('SLOT_OVERLAP', 'an examiner would be in two slots at once (within this batch or with an existing slot)');
    }
    throw err;
  }
}

export interface UpsertResult {
  inserted: number;
  updated: number;
}

/**
 * Upserts a feed's slots, keyed by (source, external id); run it inside a transaction,
 * after checking that the feed names only known centres. New slots are AVAILABLE or
 * BOOKED as the feed says (an AVAILABLE one enters the alert loop through the outbox
 * trigger, reason 'feed'); an existing slot takes the feed's times, centre, type and
 * status, except that a slot someone holds or booked here keeps its status.
 */
export async function upsertFeedSlots(tx: Queryable, source: string, slots: FeedSlot[]): Promise<UpsertResult> {
  if (!slots.length) return { inserted: 0, updated: 0 };
  await setReleaseReason(tx, 'feed');
  const { rows } = await tx.query<{ inserted: boolean }>(
    `INSERT INTO time_slots (center_id, test_type, start_time, end_time, status, source, external_id)
     SELECT tc.id, t.test_type, t.start_time, t.end_time,
            CASE WHEN t.available THEN 'AVAILABLE' ELSE 'BOOKED' END::timeslot_status, $1::text, t.external_id
       FROM unnest($2::text[], $3::text[], $4::test_type[], $5::timestamptz[], $6::timestamptz[], $7::boolean[])
              AS t (external_id, center, test_type, start_time, end_time, available)
       JOIN test_centers tc ON tc.external_id = t.center
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
      slots.map((s) => s.centerExternalId),
      slots.map((s) => s.testType),
      slots.map((s) => s.start.toISOString()),
      slots.map((s) => s.end.toISOString()),
      slots.map((s) => s.available),
    ],
  );
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted };
}

/**
 * A CTE named `name` that sets the status of the slots whose ids the CTE `from` returns
 * (column slot_id); `onlyFrom` leaves alone a slot that is not in that status, and `when`
 * is a condition of the caller's (e.g. a boolean parameter). For booking's statements,
 * which change an appointment, its slot and their history in one round trip.
 */
export function slotStatusCte(name: string, status: 'AVAILABLE' | 'HOLD' | 'BOOKED', o: { from: string; onlyFrom?: 'HOLD'; when?: string }): string {
  const conditions = [o.when, `t.id = ${o.from}.slot_id`, o.onlyFrom ? `t.status = '${o.onlyFrom}'` : undefined].filter(Boolean);
  return `${name} AS (UPDATE time_slots t SET status = '${status}' FROM ${o.from} WHERE ${conditions.join(' AND ')})`;
}

/**
 * Deletes up to `limit` slots that started before `cutoff` and that no appointment refers to
 * (a booked or held slot stays with its booking: appointments restrict its deletion, and
 * its history needs it). Their releases go by cascade and their alerts by trigger.
 */
export async function deletePastSlots(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM time_slots WHERE id = ANY (ARRAY(
       SELECT s.id FROM time_slots s
        WHERE s.start_time < $1::timestamptz AND NOT EXISTS (SELECT FROM appointments a WHERE a.slot_id = s.id)
        LIMIT $2::int))`,
    [cutoff, limit],
  );
  return rowCount ?? 0;
}
