/**
 * The appointments table: every statement that writes it (a hold, its confirmation,
 * cancellation, no-show and expiry, each with the slot's status and the history in the
 * same statement), the appointment as callers see it, and a user's own list.
 */
import { settingSql } from '../settings/definitions.js';
import type { Queryable } from '../db/types.js';
import { slotStatusCte } from '../slots/time-slots.js';
import { historyCtes } from './history.js';
import { LIMITS_CTE, type Limits } from './limits.js';

export type AppointmentStatus = 'HOLD' | 'CONFIRMED' | 'CANCELLED' | 'NO_SHOW';
export type Actor = { userId: string | null; actor: 'user' | 'operator' | 'admin' | 'system'; ip?: string | null };

export interface AppointmentView {
  id: string;
  slotId: string;
  status: AppointmentStatus;
  priority: 'NORMAL' | 'VIP' | 'URGENT';
  expiresAt: string | null;
  confirmedAt: string | null;
  cancelledAt: string | null;
  createdAt: string;
}

export interface AppointmentRow {
  id: string;
  slot_id: string;
  status: AppointmentStatus;
  priority: AppointmentView['priority'];
  expires_at: Date | null;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  created_at: Date;
}

/** The columns an AppointmentRow is read from (alias `a`). */
export const APPOINTMENT_COLUMNS = `a.id, a.slot_id, a.status, a.priority, a.expires_at, a.confirmed_at, a.cancelled_at, a.created_at`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The JSON shape of an appointment row. */
export function toView(r: AppointmentRow): AppointmentView {
  return {
    id: r.id,
    slotId: r.slot_id,
    status: r.status,
    priority: r.priority,
    expiresAt: iso(r.expires_at),
    confirmedAt: iso(r.confirmed_at),
    cancelledAt: iso(r.cancelled_at),
    createdAt: r.created_at.toISOString(),
  };
}

export interface AppointmentWithSlot extends AppointmentView {
  slot: { startTime: string; endTime: string; testType: string; center: { id: string; name: string; postcode: string } };
}

/** A user's own appointments, newest first; `limit` null lists them all. */
export async function listAppointments(db: Queryable, userId: string, limit: number | null = 100): Promise<AppointmentWithSlot[]> {
  const { rows } = await db.query<AppointmentRow & { start_time: Date; end_time: Date; test_type: string; center_id: string; center_name: string; postcode: string }>(
    `SELECT ${APPOINTMENT_COLUMNS}, s.start_time, s.end_time, s.test_type::text AS test_type,
            c.id AS center_id, c.name AS center_name, c.postcode
       FROM appointments a
       JOIN time_slots s ON s.id = a.slot_id
       JOIN test_centers c ON c.id = s.center_id
      WHERE a.user_id = $1::uuid
      ORDER BY a.created_at DESC, a.id
      LIMIT $2::int`,
    [userId, limit],
  );
  return rows.map((r) => ({
    ...toView(r),
    slot: {
      startTime: r.start_time.toISOString(),
      endTime: r.end_time.toISOString(),
      testType: r.test_type,
      center: { id: r.center_id, name: r.center_name, postcode: r.postcode },
    },
  }));
}

/**
 * A slot as a hold finds it: its state, the active appointment on it (and whether it is
 * the caller's), the caller's own hold elsewhere, and the caller's limits (limits.ts).
 */
export interface SlotState extends Limits {
  status: 'AVAILABLE' | 'HOLD' | 'BOOKED';
  started: boolean;
  active_id: string | null;
  active_expired: boolean | null;
  active_own: boolean | null;
  own_hold_id: string | null;
  own_hold_slot: string | null;
  own_hold_expired: boolean | null;
}

/** A row of HOLD_SQL: the slot's state, and the appointment columns (null when nothing was written). */
export type HoldRow = Omit<SlotState, 'status' | 'own_hold_slot'> & { slot_status: SlotState['status'] | null } & AppointmentRow & { id: string | null };

const HELD = { eventType: 'HOLD_PLACED', from: null, to: 'HOLD', action: 'appointment.hold' } as const;

/**
 * The appointment row and history of a new hold, lasting hold_minutes (system_config,
 * else $3). $1 user id, $2 slot id, $3 default minutes, $4 actor, $5 ip.
 */
function insertHoldCtes(slot: { id: string; from: string }): string {
  return `
 changed AS (
   INSERT INTO appointments (user_id, slot_id, status, priority, expires_at)
   SELECT u.id, ${slot.id}, 'HOLD', u.priority, now() + ${settingSql('hold_minutes', '$3::float8')} * interval '1 minute'
     FROM users u${slot.from} WHERE u.id = $1::uuid
   RETURNING *),
 ${slotStatusCte('mark', 'HOLD', { from: 'changed' })},
 ${historyCtes(HELD, { actorUserId: 1, actor: 4, ip: 5 })}`;
}

/**
 * The usual hold in one statement: what the slot, the caller's own holds and their limits
 * look like, and, only when the slot looks free, the caller holds nothing else and no limit
 * stands in the way, the slot locked FOR UPDATE and the hold written with its history. A slot that is visibly taken is refused
 * without waiting for its lock, so a crowd on one slot is answered at once. Under
 * REPEATABLE READ a slot taken after this statement's snapshot fails the lock with 40001,
 * and withTransaction runs it again on a fresh snapshot, which then sees it taken.
 * Returns one row: the slot's state (null status: no such slot), the caller's other hold,
 * and the new appointment (null id: nothing written). Exported for bench/booking.ts.
 */
export const HOLD_SQL = `
WITH slot AS (
   SELECT s.id, s.status, s.start_time <= now() AS started,
          a.id AS active_id, a.status = 'HOLD' AND a.expires_at <= clock_timestamp() AS active_expired, a.user_id = $1::uuid AS active_own
     FROM time_slots s
     LEFT JOIN appointments a ON a.slot_id = s.id AND a.status IN ('HOLD', 'CONFIRMED')
    WHERE s.id = $2::uuid),
 own AS (
   SELECT o.id AS own_hold_id, o.expires_at <= clock_timestamp() AS own_hold_expired
     FROM appointments o WHERE o.user_id = $1::uuid AND o.status = 'HOLD' AND o.slot_id <> $2::uuid),
 ${LIMITS_CTE},
 locked AS (
   SELECT s.id FROM time_slots s
    WHERE s.id = (SELECT id FROM slot WHERE status = 'AVAILABLE' AND NOT started AND active_id IS NULL)
      AND NOT EXISTS (SELECT 1 FROM own)
      AND NOT EXISTS (SELECT 1 FROM limits WHERE booked_id IS NOT NULL OR rehold_wait > 0)
      FOR UPDATE),
 ${insertHoldCtes({ id: 'l.id', from: ' JOIN locked l ON true' })}
SELECT slot.status AS slot_status, slot.started, slot.active_id, slot.active_expired, slot.active_own, own.own_hold_id, own.own_hold_expired,
       limits.rehold_seconds, limits.booked_id, limits.rehold_wait,
       ${APPOINTMENT_COLUMNS}
  FROM (SELECT) one
  LEFT JOIN slot ON true
  LEFT JOIN own ON true
  LEFT JOIN limits ON true
  LEFT JOIN changed a ON true`;

/** The parameters of the hold statements. */
export type HoldValues = [userId: string, slotId: string, defaultHoldMinutes: number, actor: string, ip: string | null];

/** Runs HOLD_SQL (named: parsed and planned once per connection); see HOLD_SQL for the row. */
export async function holdIfFree(tx: Queryable, values: HoldValues): Promise<HoldRow | undefined> {
  const { rows } = await tx.query<HoldRow>({ name: 'hold', text: HOLD_SQL, values });
  return rows[0];
}

const INSERT_HOLD_SQL = `WITH ${insertHoldCtes({ id: '$2::uuid', from: '' })}
 SELECT ${APPOINTMENT_COLUMNS} FROM changed a`;

/** The hold itself with its history, once the caller has locked the slot and found it free; undefined when the user is gone. */
export async function insertHold(tx: Queryable, values: HoldValues): Promise<AppointmentRow | undefined> {
  const { rows } = await tx.query<AppointmentRow>(INSERT_HOLD_SQL, values);
  return rows[0];
}

type Change = Parameters<typeof historyCtes>[0];

/** One locked appointment's state change, with its slot's status and history, in one statement. */
async function change(tx: Queryable, id: string, set: string, slotStatus: 'BOOKED' | 'AVAILABLE', history: Change, by: Actor): Promise<AppointmentView> {
  const { rows } = await tx.query<AppointmentRow>(
    `WITH changed AS (
       UPDATE appointments SET ${set} WHERE id = $1::uuid RETURNING *),
     ${slotStatusCte('slot', slotStatus, { from: 'changed' })},
     ${historyCtes(history, { actorUserId: 2, actor: 3, ip: 4 })}
     SELECT ${APPOINTMENT_COLUMNS} FROM changed a`,
    [id, by.userId, by.actor, by.ip ?? null],
  );
  return toView(rows[0]!);
}

/** HOLD -> CONFIRMED (the slot BOOKED); the caller holds the locks and has checked the hold is live. */
export function confirmLocked(tx: Queryable, id: string, by: Actor): Promise<AppointmentView> {
  return change(tx, id, `status = 'CONFIRMED', confirmed_at = now()`, 'BOOKED', { eventType: 'CONFIRMED', from: 'HOLD', to: 'CONFIRMED', action: 'appointment.confirm' }, by);
}

/** HOLD or CONFIRMED -> CANCELLED (the slot AVAILABLE again); the caller holds the locks. */
export function cancelLocked(tx: Queryable, id: string, from: AppointmentStatus, by: Actor): Promise<AppointmentView> {
  return change(tx, id, `status = 'CANCELLED', cancelled_at = now()`, 'AVAILABLE', { eventType: 'CANCELLED', from, to: 'CANCELLED', action: 'appointment.cancel' }, by);
}

/** CONFIRMED -> NO_SHOW (the slot AVAILABLE again); the caller holds the locks. */
export function noShowLocked(tx: Queryable, id: string, by: Actor): Promise<AppointmentView> {
  return change(tx, id, `status = 'NO_SHOW'`, 'AVAILABLE', { eventType: 'NO_SHOW', from: 'CONFIRMED', to: 'NO_SHOW', action: 'appointment.no_show' }, by);
}

const EXPIRED = { eventType: 'HOLD_EXPIRED', from: 'HOLD', to: 'CANCELLED', action: 'appointment.expire' } as const;

/**
 * Expires one hold inside the caller's transaction: CANCELLED with an event HOLD_EXPIRED,
 * its slot AVAILABLE unless `releaseSlot` is false (a hold that takes the slot over at
 * once: no release to announce). The caller holds the slot's lock or takes it here, in
 * slot-then-appointment order, and sets the release reason.
 */
export async function expireHoldRow(tx: Queryable, appointmentId: string, releaseSlot: boolean): Promise<boolean> {
  const { rowCount } = await tx.query(
    `WITH changed AS (
       UPDATE appointments SET status = 'CANCELLED', cancelled_at = now()
        WHERE id = $1::uuid AND status = 'HOLD' AND expires_at <= clock_timestamp()
       RETURNING id, slot_id),
     ${slotStatusCte('slot', 'AVAILABLE', { from: 'changed', onlyFrom: 'HOLD', when: '$2::boolean' })},
     ${historyCtes(EXPIRED, { actorUserId: 3, actor: 4, ip: 5 })}
     SELECT id FROM changed`,
    [appointmentId, releaseSlot, null, 'system', null],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Up to `batch` due holds expired as expireHoldRow does, each locked with its slot; rows
 * another transaction holds (a confirm in flight) are skipped, not waited for, so a sweep
 * never blocks a booking and never both confirms and releases one hold.
 */
export async function expireDueHoldRows(db: Queryable, batch: number): Promise<number> {
  const { rowCount } = await db.query(
    `WITH due AS (
       SELECT a.id, a.slot_id
         FROM appointments a JOIN time_slots s ON s.id = a.slot_id
        WHERE a.status = 'HOLD' AND a.expires_at <= clock_timestamp()
        ORDER BY a.expires_at
        LIMIT $1::int
          FOR UPDATE OF a, s SKIP LOCKED),
     changed AS (
       UPDATE appointments a SET status = 'CANCELLED', cancelled_at = now()
         FROM due WHERE a.id = due.id AND a.status = 'HOLD'
       RETURNING a.id, a.slot_id),
     ${slotStatusCte('slot', 'AVAILABLE', { from: 'changed', onlyFrom: 'HOLD' })},
     ${historyCtes(EXPIRED, { actorUserId: 2, actor: 3, ip: 4 })}
     SELECT id FROM changed`,
    [batch, null, 'system', null],
  );
  return rowCount ?? 0;
}

/** Brings a live hold's expiry to `seconds` from now: for the demo, which cannot wait five minutes. */
export async function expireHoldSoon(db: Queryable, appointmentId: string, seconds: number): Promise<void> {
  await db.query(`UPDATE appointments SET expires_at = now() + make_interval(secs => $2::int) WHERE id = $1::uuid AND status = 'HOLD'`, [
    appointmentId,
    seconds,
  ]);
}
