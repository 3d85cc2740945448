/**
 * Confirm, cancel and no-show: each locks the slot and then the appointment (the order a
 * hold uses, so they queue rather than deadlock), checks the state, and changes
 * appointment, slot and history in one statement. A refusal changes nothing.
 */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import type { Queryable } from '../db/types.js';
import { RELEASE_REASON_SETTING } from '../slots/releases.js';
import { APPOINTMENT_COLUMNS, cancelLocked, confirmLocked, noShowLocked, toView, type Actor, type AppointmentRow, type AppointmentStatus, type AppointmentView } from './appointments.js';
import { BookingRefusal } from './errors.js';

interface Locked {
  status: AppointmentStatus;
  expired: boolean;
  confirmed_at: Date | null;
  slot_id: string;
}

/**
 * Locks the appointment's slot, then the appointment. `ownerId` limits it to that user's
 * appointments (anyone else's is "not found", so ids cannot be probed).
 */
async function lockAppointment(tx: Queryable, id: string, ownerId: string | null, releaseReason?: string): Promise<Locked> {
  const found = await tx.query<{ slot_id: string }>(
    `SELECT slot_id FROM appointments WHERE id = $1::uuid AND ($2::uuid IS NULL OR user_id = $2::uuid)`,
    [id, ownerId],
  );
  const slotId = found.rows[0]?.slot_id;
  if (!slotId) throw new BookingRefusal('APPOINTMENT_NOT_FOUND', 'no appointment with this id');
  // the release reason rides on the lock statement: one round trip fewer, and harmless if we refuse
  await tx.query(`SELECT id, set_config('${RELEASE_REASON_SETTING}', $2::text, true) FROM time_slots WHERE id = $1::uuid FOR UPDATE`, [
    slotId,
    releaseReason ?? '',
  ]);
  const { rows } = await tx.query<Locked>(
    `SELECT status, status = 'HOLD' AND expires_at <= clock_timestamp() AS expired, confirmed_at, slot_id
       FROM appointments WHERE id = $1::uuid FOR UPDATE`,
    [id],
  );
  return rows[0]!;
}

/** HOLD -> CONFIRMED while the hold is live; confirming a confirmed appointment answers it again. */
export async function confirmAppointment(pool: pg.Pool, id: string, by: Actor & { userId: string }): Promise<AppointmentView> {
  return withTransaction(
    pool,
    async (tx) => {
      const a = await lockAppointment(tx, id, by.userId);
      if (a.status === 'CONFIRMED') {
        const { rows } = await tx.query<AppointmentRow>(`SELECT ${APPOINTMENT_COLUMNS} FROM appointments a WHERE a.id = $1::uuid`, [id]);
        return toView(rows[0]!);
      }
      if (a.expired || (a.status === 'CANCELLED' && a.confirmed_at === null && (await wasExpired(tx, id)))) {
        throw new BookingRefusal('HOLD_EXPIRED', 'the hold has expired; hold the slot again if it is still free');
      }
      if (a.status !== 'HOLD') throw new BookingRefusal('APPOINTMENT_NOT_ACTIVE', `the appointment is ${a.status}`);
      return confirmLocked(tx, id, by);
    },
    { isolation: 'REPEATABLE READ', maxAttempts: 8 },
  );
}

async function wasExpired(tx: Queryable, id: string): Promise<boolean> {
  const { rows } = await tx.query(`SELECT 1 FROM appointment_events WHERE appointment_id = $1::uuid AND event_type = 'HOLD_EXPIRED'`, [id]);
  return rows.length > 0;
}

/** HOLD or CONFIRMED -> CANCELLED by its owner; the slot becomes AVAILABLE (released, reason cancelled). */
export async function cancelAppointment(pool: pg.Pool, id: string, by: Actor & { userId: string }): Promise<AppointmentView> {
  return withTransaction(
    pool,
    async (tx) => {
      const a = await lockAppointment(tx, id, by.userId, 'cancelled');
      if (a.status !== 'HOLD' && a.status !== 'CONFIRMED') throw new BookingRefusal('APPOINTMENT_NOT_ACTIVE', `the appointment is already ${a.status}`);
      return cancelLocked(tx, id, a.status, by);
    },
    { isolation: 'REPEATABLE READ', maxAttempts: 8 },
  );
}

/** CONFIRMED -> NO_SHOW, recorded by staff; the slot becomes AVAILABLE (released, reason no_show). */
export async function markNoShow(pool: pg.Pool, id: string, by: Actor): Promise<AppointmentView> {
  return withTransaction(
    pool,
    async (tx) => {
      const a = await lockAppointment(tx, id, null, 'no_show');
      if (a.status !== 'CONFIRMED') throw new BookingRefusal('APPOINTMENT_NOT_ACTIVE', `only a CONFIRMED appointment can be a no-show; this one is ${a.status}`);
      return noShowLocked(tx, id, by);
    },
    { isolation: 'REPEATABLE READ', maxAttempts: 8 },
  );
}

/**
 * Cancels, inside the caller's transaction, every live appointment of a user whose account
 * is being erased: each hold, and each booking whose slot has not started, so their slots
 * are released (reason cancelled) as the learner's own cancel releases them. A booking
 * whose test has started or passed stays as the operator's record. The caller has locked
 * the user's row, so no new hold can appear meanwhile. Returns how many were cancelled.
 */
export async function cancelLiveAppointmentsOf(tx: Queryable, userId: string): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT a.id FROM appointments a JOIN time_slots s ON s.id = a.slot_id
      WHERE a.user_id = $1::uuid AND (a.status = 'HOLD' OR (a.status = 'CONFIRMED' AND s.start_time > now()))
      ORDER BY a.slot_id`,
    [userId],
  );
  let cancelled = 0;
  for (const { id } of rows) {
    const a = await lockAppointment(tx, id, userId, 'cancelled');
    // the learner's own action, though the person is about to be forgotten: the user id goes with the account
    if (a.status === 'HOLD' || a.status === 'CONFIRMED') {
      await cancelLocked(tx, id, a.status, { userId, actor: 'user', ip: null });
      cancelled++;
    }
  }
  return cancelled;
}
