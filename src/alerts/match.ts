/**
 * The matching half of the alert loop: claim released slots from the outbox, write the
 * alerts they owe and mark them processed in one transaction, then hand the alerts to
 * their deliveries queues.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { withTransaction } from '../db/transaction.js';
import type { Queues } from '../queues/queues.js';
import { claimReleases, markReleasesProcessed } from '../slots/releases.js';
import { enqueueAlerts } from './deliveries.js';
import { pushConfigured } from './push.js';
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
    return { releases: claimed.length, alerts: eachLearnerFirst(alerts) };
  });
}

/**
 * The hand-off order: one alert of each learner first, then the rest. Routing is per
 * learner (route.ts): the first of a learner's alerts to be sent goes at once and gathers
 * the others into one digest, whose own jobs then end at once. Queued in this order (a
 * queue keeps the order within a tier), every learner of a burst gets their first message
 * after about one job each, instead of somewhere among all the burst's alerts.
 */
export function eachLearnerFirst<T extends { userId: string }>(alerts: T[]): T[] {
  const seen = new Set<string>();
  const first: T[] = [];
  const rest: T[] = [];
  for (const a of alerts) {
    if (seen.has(a.userId)) rest.push(a);
    else {
      seen.add(a.userId);
      first.push(a);
    }
  }
  return first.concat(rest);
}

export interface DrainResult {
  releases: number;
  alerts: number;
}

export interface DrainOptions {
  pool: pg.Pool;
  queues: Pick<Queues, 'deliveries'>;
  config: Pick<Config, 'RELEASE_BATCH_SIZE' | 'VAPID_PUBLIC_KEY' | 'VAPID_PRIVATE_KEY'>;
  log: Logger;
}

/**
 * Claims and matches until no unprocessed release is left for this worker, handing each
 * batch's alerts to delivery after its commit.
 */
export async function drainReleases(o: DrainOptions): Promise<DrainResult> {
  const size = o.config.RELEASE_BATCH_SIZE;
  const total: DrainResult = { releases: 0, alerts: 0 };
  for (;;) {
    const batch = await matchReleaseBatch(o.pool, size);
    total.releases += batch.releases;
    total.alerts += batch.alerts.length;
    try {
      await enqueueAlerts(o.queues.deliveries, o.pool, batch.alerts, pushConfigured(o.config));
    } catch (err) {
      // the alerts are committed and stay PENDING with no enqueued_at: the sweep hands them over
      o.log.warn({ err, alerts: batch.alerts.length }, 'could not enqueue alerts; the pending-alert sweep will');
    }
    if (batch.releases < size) break;
  }
  if (total.releases) o.log.info(total, 'releases matched');
  return total;
}
