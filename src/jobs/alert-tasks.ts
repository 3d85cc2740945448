/** The alert loop's scheduled upkeep, listed in src/worker/registry.ts. */
import type pg from 'pg';
import { channelQueues } from '../alerts/deliveries.js';
import { pushConfigured } from '../alerts/push.js';
import type { Deps, MaintenanceTask } from './task.js';
import { coalesced } from '../alerts/coalesce.js';
import { drainReleases, type DrainResult } from '../alerts/drain.js';
import { listenForReleases } from '../alerts/listen-releases.js';
import { sweepPendingAlerts } from '../alerts/sweep-pending.js';

// one drain at a time per process (per pool): the scheduled job and the notifications
// share it. Across processes SKIP LOCKED keeps runs apart.
const drains = new WeakMap<pg.Pool, { trigger(): Promise<void>; idle(): Promise<void>; last: DrainResult }>();

function drainerFor(deps: Deps) {
  let d = drains.get(deps.pool);
  if (!d) {
    const state = {
      last: { releases: 0, alerts: 0 },
      ...coalesced(async () => {
        state.last = await drainReleases(deps);
      }),
    };
    d = state;
    drains.set(deps.pool, d);
  }
  return d;
}

/** Matches released slots every release_poll_seconds (setting) and whenever 'slot_released' is notified. */
export const pollReleasesTask: MaintenanceTask = {
  name: 'poll-releases',
  everyMs: (_config, settings) => settings.release_poll_seconds * 1000,
  async run(deps) {
    const d = drainerFor(deps);
    await d.trigger();
    return d.last;
  },
  async start(deps) {
    const d = drainerFor(deps);
    const listener = listenForReleases(
      deps.config.DATABASE_URL,
      () => d.trigger().catch((err: unknown) => deps.log.error({ err }, 'release matching failed')),
      deps.log.child({ task: 'poll-releases' }),
    );
    return async () => {
      await listener.stop();
      await d.idle();
    };
  },
};

/** Hands PENDING alerts that never reached a deliveries queue (or lost their job) to it again. */
export const sweepPendingAlertsTask: MaintenanceTask = {
  name: 'sweep-pending-alerts',
  everyMs: (config) => config.ALERT_SWEEP_SECONDS * 1000,
  async run(deps) {
    const options = { graceSeconds: deps.config.ALERT_ENQUEUE_GRACE_SECONDS, requeueSeconds: deps.config.ALERT_REQUEUE_SECONDS, limit: 5000 };
    const requeued = await sweepPendingAlerts(channelQueues(deps.queues), deps.pool, options, pushConfigured(deps.config));
    if (requeued) deps.log.warn({ requeued }, 'handed stranded alerts to the deliveries queues');
    return { requeued };
  },
};

export const matchingTasks: MaintenanceTask[] = [pollReleasesTask, sweepPendingAlertsTask];
