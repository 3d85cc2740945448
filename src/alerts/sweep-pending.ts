/**
 * The safety net of the hand-off. An alert still PENDING is handed to its deliveries
 * queue again when it was never enqueued (a crash between the commit that wrote it and
 * the enqueue) and is older than the grace period, or when it was enqueued long ago and
 * is still PENDING (its job was lost with Redis, or completed and was removed without
 * the alert moving on). Re-adding is safe: a live job with that id makes it a no-op.
 */
import type { Queryable } from '../db/types.js';
import type { ChannelQueues } from './deliveries.js';
import { requeueAlerts, type AlertToDeliver } from './handoff.js';

export interface SweepOptions {
  /** Seconds an alert may wait for its first enqueue before the sweep takes it. */
  graceSeconds: number;
  /** Seconds after its last enqueue at which a still-PENDING alert is handed over again. */
  requeueSeconds: number;
  /** Most alerts per run. */
  limit: number;
}

/** Alerts the sweep should hand over again, oldest first. */
export async function findStrandedAlerts(db: Queryable, o: SweepOptions): Promise<AlertToDeliver[]> {
  const { rows } = await db.query<AlertToDeliver>(
    // the tier the alert was written with (migration 0013) and its channel, as the first hand-off used
    `SELECT a.id, a.priority::text AS priority, a.channel::text AS channel
       FROM user_alerts a
      WHERE a.status = 'PENDING'
        AND ((a.enqueued_at IS NULL AND a.created_at < now() - make_interval(secs => $1::double precision))
          OR a.enqueued_at < now() - make_interval(secs => $2::double precision))
      ORDER BY a.created_at
      LIMIT $3::int`,
    [o.graceSeconds, o.requeueSeconds, o.limit],
  );
  return rows;
}

/** Re-enqueues stranded PENDING alerts; returns how many jobs were added. */
export async function sweepPendingAlerts(queues: ChannelQueues, db: Queryable, o: SweepOptions, pushConfigured: boolean): Promise<number> {
  return requeueAlerts(queues, db, await findStrandedAlerts(db, o), pushConfigured);
}
