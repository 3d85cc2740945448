/**
 * The release outbox (slot_releases): rows are found by state and claimed with
 * FOR UPDATE SKIP LOCKED, never by an id or time watermark, so two workers never take the
 * same row and a transaction that commits a lower id after a higher one is still seen.
 */
import type { Queryable } from '../db/types.js';

export interface ClaimedRelease {
  id: string;
  slotId: string;
}

/** Locks up to `limit` unprocessed releases for the caller's transaction, skipping rows other workers hold. */
export async function claimReleases(db: Queryable, limit: number): Promise<ClaimedRelease[]> {
  const { rows } = await db.query<{ id: string; slot_id: string }>(
    `SELECT id, slot_id
       FROM slot_releases
      WHERE processed_at IS NULL
      ORDER BY id
      LIMIT $1::int
        FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => ({ id: r.id, slotId: r.slot_id }));
}

/**
 * Marks claimed releases processed. `alertsBySlot` counts the alerts each slot produced;
 * when one batch holds several releases of a slot, the earliest carries the count and the
 * others 0, so the column adds up to the alerts written.
 */
export async function markReleasesProcessed(db: Queryable, releaseIds: string[], alertsBySlot: Map<string, number>): Promise<void> {
  await db.query(
    `WITH counts AS (
       SELECT slot_id, n FROM unnest($2::uuid[], $3::int[]) AS t (slot_id, n)
     ), firsts AS (
       SELECT DISTINCT ON (slot_id) id FROM slot_releases WHERE id = ANY ($1::bigint[]) ORDER BY slot_id, id
     )
     UPDATE slot_releases r
        SET processed_at = now(),
            alerts_created = CASE WHEN r.id IN (SELECT id FROM firsts)
                                  THEN coalesce((SELECT n FROM counts c WHERE c.slot_id = r.slot_id), 0)
                                  ELSE 0 END
      WHERE r.id = ANY ($1::bigint[])`,
    [releaseIds, [...alertsBySlot.keys()], [...alertsBySlot.values()]],
  );
}

/** The transaction-local setting the outbox trigger reads for the reason of a release. */
export const RELEASE_REASON_SETTING = 'slotwatch.release_reason';

/** Sets the reason the outbox trigger records for slots this transaction releases (hold_expired, cancelled, feed, ...). */
export async function setReleaseReason(tx: Queryable, reason: string): Promise<void> {
  await tx.query(`SELECT set_config('${RELEASE_REASON_SETTING}', $1::text, true)`, [reason]);
}

/** Deletes up to `limit` releases processed before `cutoff`; an unprocessed one is never deleted. */
export async function deleteProcessedReleases(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM slot_releases WHERE id = ANY (ARRAY(
       SELECT id FROM slot_releases WHERE processed_at < $1::timestamptz LIMIT $2::int))`,
    [cutoff, limit],
  );
  return rowCount ?? 0;
}
