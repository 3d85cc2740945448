/**
 * Hold expiry: the scheduled sweep, and the same change made inline when a hold finds an
 * expired but unswept hold in its way. An expired hold becomes CANCELLED with an event
 * HOLD_EXPIRED, and its slot AVAILABLE, which the outbox trigger records as a release
 * (reason hold_expired) for the alert loop.
 */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import type { Queryable } from '../db/types.js';
import type { MaintenanceTask } from '../jobs/task.js';
import { historyCtes } from './history.js';

const EXPIRED = { eventType: 'HOLD_EXPIRED', from: 'HOLD', to: 'CANCELLED', action: 'appointment.expire' } as const;

/**
 * Expires one hold inside the caller's transaction. The caller holds the lock on the
 * slot (or takes it here, in slot-then-appointment order). `releaseSlot: false` leaves the
 * slot as it is, for a hold that takes the slot over at once (no release to announce).
 */
export async function expireHoldInTx(tx: Queryable, appointmentId: string, releaseSlot: boolean): Promise<boolean> {
  if (releaseSlot) await tx.query(`SELECT set_config('slotwatch.release_reason', 'hold_expired', true)`);
  const { rowCount } = await tx.query(
    `WITH changed AS (
       UPDATE appointments SET status = 'CANCELLED', cancelled_at = now()
        WHERE id = $1::uuid AND status = 'HOLD' AND expires_at <= clock_timestamp()
       RETURNING id, slot_id),
     slot AS (
       UPDATE time_slots t SET status = 'AVAILABLE' FROM changed
        WHERE $2::boolean AND t.id = changed.slot_id AND t.status = 'HOLD'),
     ${historyCtes(EXPIRED, { actorUserId: 3, actor: 4, ip: 5 })}
     SELECT id FROM changed`,
    [appointmentId, releaseSlot, null, 'system', null],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * One batch of the sweep: up to `batch` due holds, each locked with its slot; rows another
 * transaction holds (a confirm in flight) are skipped, not waited for, so a sweep never
 * blocks a booking and never both confirms and releases one hold.
 */
export async function expireDueHoldsBatch(db: Queryable, batch: number): Promise<number> {
  await db.query(`SELECT set_config('slotwatch.release_reason', 'hold_expired', true)`);
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
     slot AS (
       UPDATE time_slots t SET status = 'AVAILABLE' FROM changed
        WHERE t.id = changed.slot_id AND t.status = 'HOLD'),
     ${historyCtes(EXPIRED, { actorUserId: 2, actor: 3, ip: 4 })}
     SELECT id FROM changed`,
    [batch, null, 'system', null],
  );
  return rowCount ?? 0;
}

/** Sweeps every due hold in batches, each its own transaction; returns how many expired. */
export async function expireDueHolds(pool: pg.Pool, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    // READ COMMITTED: a row confirmed since the scan is re-checked under its lock and left alone
    const n = await withTransaction(pool, (tx) => expireDueHoldsBatch(tx, batch));
    total += n;
    if (n < batch) return total;
  }
}

/** The sweep as a maintenance task, every hold_sweep_seconds (system_config, else HOLD_SWEEP_SECONDS). */
export const expireHoldsTask: MaintenanceTask = {
  name: 'expire-holds',
  everyMs: (_config, settings) => settings.hold_sweep_seconds * 1000,
  async run(deps) {
    const expired = await expireDueHolds(deps.pool, deps.config.HOLD_SWEEP_BATCH);
    if (expired) deps.log.info({ expired }, 'expired holds released');
    return { expired };
  },
};
