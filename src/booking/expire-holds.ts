/**
 * Hold expiry: the scheduled sweep, and the same change made inline when a hold finds an
 * expired but unswept hold in its way. An expired hold becomes CANCELLED with an event
 * HOLD_EXPIRED, and its slot AVAILABLE, which the outbox trigger records as a release
 * (reason hold_expired) for the alert loop.
 */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import type { Queryable } from '../db/types.js';
import { setReleaseReason } from '../slots/releases.js';
import { expireDueHoldRows, expireHoldRow } from './appointments.js';

/**
 * Expires one hold inside the caller's transaction. The caller holds the lock on the
 * slot (or takes it here, in slot-then-appointment order). `releaseSlot: false` leaves the
 * slot as it is, for a hold that takes the slot over at once (no release to announce).
 */
export async function expireHoldInTx(tx: Queryable, appointmentId: string, releaseSlot: boolean): Promise<boolean> {
  if (releaseSlot) await setReleaseReason(tx, 'hold_expired');
  return expireHoldRow(tx, appointmentId, releaseSlot);
}

/** One batch of the sweep: up to `batch` due holds (see expireDueHoldRows). */
export async function expireDueHoldsBatch(db: Queryable, batch: number): Promise<number> {
  await setReleaseReason(db, 'hold_expired');
  return expireDueHoldRows(db, batch);
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
