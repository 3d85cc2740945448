/** One batch of the alert loop: claim releases, write their alerts, mark them processed, in one transaction. */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import { claimReleases, markReleasesProcessed } from '../slots/releases.js';
import { insertAlertsForSlots, type NewAlert } from './store.js';

/** Sort memory for one batch's matching statement. */
export const MATCH_WORK_MEM = '64MB';

export interface MatchedBatch {
  /** Releases claimed and marked processed. */
  releases: number;
  /** Alerts written by this batch (already committed when this returns). */
  alerts: NewAlert[];
}

/**
 * Claims up to `batchSize` unprocessed releases (SKIP LOCKED), inserts their alerts and
 * marks them processed, all committed together. The caller hands the alerts to the
 * deliveries queue after this returns; a crash in between is what the sweep is for.
 */
export async function matchReleaseBatch(pool: pg.Pool, batchSize: number): Promise<MatchedBatch> {
  return withTransaction(pool, async (tx) => {
    const claimed = await claimReleases(tx, batchSize);
    if (!claimed.length) return { releases: 0, alerts: [] };
    // The matcher's plan sorts one slot's candidates at a time, but on other estimates
    // the planner sorts the whole batch at once: tens of megabytes at a busy centre, which
    // at the 4 MB default would go to disk. For this transaction only.
    await tx.query(`SET LOCAL work_mem = '${MATCH_WORK_MEM}'`);
    const alerts = await insertAlertsForSlots(tx, [...new Set(claimed.map((r) => r.slotId))]);
    const bySlot = new Map<string, number>();
    for (const a of alerts) bySlot.set(a.slotId, (bySlot.get(a.slotId) ?? 0) + 1);
    await markReleasesProcessed(
      tx,
      claimed.map((r) => r.id),
      bySlot,
    );
    return { releases: claimed.length, alerts };
  });
}
