/**
 * Placing a hold, the contended path: REPEATABLE READ, the slot row locked with SELECT ...
 * FOR UPDATE before a hold is written, 40001/40P01 retried by withTransaction, and the
 * partial unique index appointments_one_active_per_slot as the last line of defence. A
 * slot already visibly taken is refused on the snapshot, without taking (or waiting for)
 * its lock. A taken slot is a BookingRefusal (409), never an error. The caller's limits
 * (limits.ts) are read in the statement that locks the slot: a hold ended or a booking
 * made after the snapshot changed the slot or the caller's rows, so the lock fails with
 * 40001 and the retry sees it, or the exclusion constraint refuses the insert.
 */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import { sqlState } from '../db/types.js';
import { holdIfFree, insertHold, toView, type AppointmentRow, type AppointmentView, type HoldValues, type SlotState } from './appointments.js';
import { BookingRefusal, refusalForConstraint } from './errors.js';
import { expireHoldInTx } from './expire-holds.js';
import { findAnswer, storeAnswer } from './idempotency.js';
import { alreadyBookedRefusal, LIMITS_CTE, reholdRefusal } from './limits.js';

export interface HoldRequest {
  userId: string;
  slotId: string;
  /** HOLD_MINUTES: used while system_config has no valid 'hold_minutes' row. */
  defaultHoldMinutes: number;
  idempotencyKey?: string | undefined;
  ip?: string | null;
}

export interface HoldAnswer {
  statusCode: number;
  body: { appointment: AppointmentView };
  /** True when this is the stored answer of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

/**
 * The slot, locked; the active appointment on it; the caller's own hold elsewhere (one at a
 * time); and the caller's limits. $1 user id, $2 slot id. For the rare hold that finds an
 * expired, unswept hold in its way.
 */
const LOCK_SLOT_SQL = `
WITH ${LIMITS_CTE}
SELECT s.status, s.start_time <= now() AS started,
        a.id AS active_id, a.status = 'HOLD' AND a.expires_at <= clock_timestamp() AS active_expired, a.user_id = $1::uuid AS active_own,
        o.id AS own_hold_id, o.slot_id AS own_hold_slot, o.expires_at <= clock_timestamp() AS own_hold_expired,
        limits.rehold_seconds, limits.booked_id, limits.rehold_wait
   FROM time_slots s
   LEFT JOIN appointments a ON a.slot_id = s.id AND a.status IN ('HOLD', 'CONFIRMED')
   LEFT JOIN appointments o ON o.user_id = $1::uuid AND o.status = 'HOLD' AND o.slot_id <> s.id
   CROSS JOIN limits
  WHERE s.id = $2::uuid
    FOR UPDATE OF s`;

type Seen = Pick<SlotState, 'started' | 'active_id' | 'active_expired' | 'active_own' | 'own_hold_id' | 'own_hold_expired' | 'booked_id' | 'rehold_wait'>;

/** The refusal a slot's state calls for, if any (expired holds in the way are not refusals). */
async function refusalFor(tx: pg.PoolClient, r: HoldRequest, slot: Seen): Promise<BookingRefusal | undefined> {
  if (slot.started) return new BookingRefusal('SLOT_UNAVAILABLE', 'this slot has already started');
  if (slot.active_id && !slot.active_expired) {
    return new BookingRefusal('SLOT_UNAVAILABLE', slot.active_own ? 'you already hold or have booked this slot' : 'this slot is held or booked by someone else');
  }
  if (slot.own_hold_id && !slot.own_hold_expired) {
    return new BookingRefusal('ALREADY_HOLDING', 'you already hold another slot; confirm or cancel it first');
  }
  if (slot.booked_id) return alreadyBookedRefusal(tx, r.userId, r.slotId);
  if (slot.rehold_wait !== null && slot.rehold_wait > 0) return reholdRefusal(slot.rehold_wait);
  return undefined;
}

/**
 * The slow path, when an expired but unswept hold stands in the way (on this slot, or the
 * caller's own elsewhere): the slot locked, the expired holds expired, then the hold. When
 * the hold in the way is the caller's own on this slot (and the cooldown is on), it is
 * expired and its slot released as the sweep would, and the answer is REHOLD_TOO_SOON:
 * returned, not thrown, so that the release commits.
 */
async function holdPastExpired(tx: pg.PoolClient, r: HoldRequest, values: HoldValues): Promise<AppointmentRow | BookingRefusal> {
  const { rows } = await tx.query<SlotState>(LOCK_SLOT_SQL, [r.userId, r.slotId]);
  const slot = rows[0];
  if (!slot) throw new BookingRefusal('SLOT_NOT_FOUND', 'no slot with this id');
  const refusal = await refusalFor(tx, r, slot);
  if (refusal) throw refusal;
  if (slot.active_id && slot.active_own && slot.rehold_seconds > 0) {
    await expireHoldInTx(tx, slot.active_id, true);
    return reholdRefusal(slot.rehold_seconds);
  }
  // this slot passes straight to the new hold (no release); the caller's own old slot is released
  if (slot.active_id) await expireHoldInTx(tx, slot.active_id, false);
  if (slot.own_hold_id) await expireHoldInTx(tx, slot.own_hold_id, true);
  const row = await insertHold(tx, values);
  if (!row) throw new BookingRefusal('SLOT_NOT_FOUND', 'no such user'); // the caller's account vanished mid-request
  return row;
}

async function holdOnce(pool: pg.Pool, r: HoldRequest): Promise<HoldAnswer> {
  const request = `POST /api/slots/${r.slotId}/hold`;
  const outcome = await withTransaction(
    pool,
    async (tx): Promise<HoldAnswer | BookingRefusal> => {
      if (r.idempotencyKey) {
        const stored = await findAnswer(tx, r.userId, r.idempotencyKey);
        if (stored) {
          if (stored.request !== request) {
            throw new BookingRefusal('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for another request; use a new key');
          }
          return { statusCode: stored.statusCode, body: stored.response as HoldAnswer['body'], replayed: true };
        }
      }

      const values: HoldValues = [r.userId, r.slotId, r.defaultHoldMinutes, 'user', r.ip ?? null];
      const fast = await holdIfFree(tx, values);
      if (!fast?.slot_status) throw new BookingRefusal('SLOT_NOT_FOUND', 'no slot with this id');
      let row: AppointmentRow | undefined = fast.id ? fast : undefined;
      if (!row) {
        const refusal = await refusalFor(tx, r, fast);
        if (refusal) throw refusal;
        if (fast.slot_status !== 'AVAILABLE' && !fast.active_id) throw new BookingRefusal('SLOT_UNAVAILABLE', 'this slot is not available');
        const slow = await holdPastExpired(tx, r, values);
        if (slow instanceof BookingRefusal) return slow;
        row = slow;
      }
      const answer: HoldAnswer = { statusCode: 201, body: { appointment: toView(row) }, replayed: false };
      if (r.idempotencyKey) await storeAnswer(tx, r.userId, r.idempotencyKey, { request, statusCode: 201, response: answer.body });
      return answer;
    },
    { isolation: 'REPEATABLE READ', maxAttempts: 8 },
  );
  if (outcome instanceof BookingRefusal) throw outcome;
  return outcome;
}

/** Holds a slot for a user; throws BookingRefusal for every refusal the caller can act on. */
export async function placeHold(pool: pg.Pool, r: HoldRequest): Promise<HoldAnswer> {
  try {
    return await holdOnce(pool, r);
  } catch (err) {
    const refusal = refusalForConstraint(err);
    // a booking of the same test type committed beside this hold: say which, as the usual refusal does
    if (refusal?.code === 'ALREADY_BOOKED') throw await alreadyBookedRefusal(pool, r.userId, r.slotId);
    if (refusal) throw refusal;
    // a twin request with the same Idempotency-Key committed first: answer what it answered
    if (r.idempotencyKey && sqlState(err) === '23505' && (err as { constraint?: string }).constraint === 'idempotency_keys_pkey') {
      return holdOnce(pool, r);
    }
    throw err;
  }
}
