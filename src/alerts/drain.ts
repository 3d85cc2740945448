/** Matches every unprocessed release, batch by batch, handing each batch's alerts to delivery after its commit. */
import { channelQueues } from './deliveries.js';
import { pushConfigured } from './push.js';
import type { Deps } from '../jobs/task.js';
import { enqueueAlerts } from './handoff.js';
import { matchReleaseBatch } from './match.js';

export interface DrainResult {
  releases: number;
  alerts: number;
}

/** Claims and matches until no unprocessed release is left for this worker. */
export async function drainReleases(deps: Pick<Deps, 'pool' | 'queues' | 'config' | 'log'>): Promise<DrainResult> {
  const size = deps.config.RELEASE_BATCH_SIZE;
  const total: DrainResult = { releases: 0, alerts: 0 };
  for (;;) {
    const batch = await matchReleaseBatch(deps.pool, size);
    total.releases += batch.releases;
    total.alerts += batch.alerts.length;
    try {
      await enqueueAlerts(channelQueues(deps.queues), deps.pool, batch.alerts, pushConfigured(deps.config));
    } catch (err) {
      // the alerts are committed and stay PENDING with no enqueued_at: the sweep hands them over
      deps.log.warn({ err, alerts: batch.alerts.length }, 'could not enqueue alerts; the pending-alert sweep will');
    }
    if (batch.releases < size) break;
  }
  if (total.releases) deps.log.info(total, 'releases matched');
  return total;
}
