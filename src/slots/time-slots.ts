/** Creating time slots in bulk. Each new AVAILABLE slot is released to the alert loop by the outbox trigger. */
import type { Queryable } from '../db/types.js';

export type TestType = 'practical' | 'theory';

export interface NewSlot {
  specialistId: string;
  testType: TestType;
  startTime: string;
  endTime: string;
}

export interface SlotView {
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
export async function createSlots(db: Queryable, slots: NewSlot[]): Promise<SlotView[]> {
  const ids = [...new Set(slots.map((s) => s.specialistId))];
  const known = await db.query<{ id: string }>(
    `SELECT id FROM specialists WHERE id = ANY($1::uuid[]) AND is_active`,
    [ids],
  );
  const knownIds = new Set(known.rows.map((r) => r.id));
  const unknown = slots.findIndex((s) => !knownIds.has(s.specialistId));
  if (unknown >= 0) throw new SlotBatchError('UNKNOWN_SPECIALIST', `slots/${unknown}/specialistId names no active specialist`);
  try {
    const { rows } = await db.query<{ id: string; specialist_id: string | null; center_id: string; test_type: TestType; start_time: Date; end_time: Date; status: SlotView['status'] }>(
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
