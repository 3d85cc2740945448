/**
 * What the worker process runs: each capability's scheduled upkeep, wired to the
 * maintenance queue. This list is the one place that says what a worker does.
 */
import { rebuildQueues, sweepPendingAlerts } from '../alerts/deliveries.js';
import { pushConfigured } from '../alerts/push.js';
import { releaseMatcher } from '../alerts/release-matcher.js';
import { requeueExpiredClaims, startSenders } from '../alerts/senders.js';
import { deleteStaleTokens } from '../accounts/account-tokens.js';
import { deleteStaleSessions } from '../accounts/sessions.js';
import { expireDueHolds } from '../booking/expire-holds.js';
import { deleteOldAnswers } from '../booking/idempotency.js';
import { HttpSlotFeed } from '../slots/feeds/http-feed.js';
import { pollFeed } from '../slots/feeds/poll.js';
import { foldMetricCounts } from '../metrics/counts.js';
import { inBatches, runRetention } from './retention.js';
import type { MaintenanceTask } from './task.js';

/** Matches released slots every release_poll_seconds (setting) and whenever 'slot_released' is notified. */
export const pollReleasesTask: MaintenanceTask = {
  name: 'poll-releases',
  everyMs: (_config, settings) => settings.release_poll_seconds * 1000,
  run: (deps) => releaseMatcher(deps).run(),
  // releases live in PostgreSQL alone; matching them now hands their alerts to the new queues
  rebuild: (deps) => releaseMatcher(deps).run(),
  async start(deps) {
    const listener = releaseMatcher(deps).listen(deps.config.DATABASE_DIRECT_URL, deps.log.child({ task: 'poll-releases' }));
    return () => listener.stop();
  },
};

/** Hands PENDING alerts that never reached a deliveries queue (or lost their job) to it again. */
export const sweepPendingAlertsTask: MaintenanceTask = {
  name: 'sweep-pending-alerts',
  everyMs: (config) => config.ALERT_SWEEP_SECONDS * 1000,
  async run(deps) {
    const options = { graceSeconds: deps.config.ALERT_ENQUEUE_GRACE_SECONDS, requeueSeconds: deps.config.ALERT_REQUEUE_SECONDS, limit: 5000 };
    const requeued = await sweepPendingAlerts(deps.queues.deliveries, deps.pool, options, pushConfigured(deps.config));
    if (requeued) deps.log.warn({ requeued }, 'handed stranded alerts to the deliveries queues');
    return { requeued };
  },
  async rebuild(deps) {
    const rebuilt = await rebuildQueues(deps.queues.deliveries, deps.pool, pushConfigured(deps.config), 100_000);
    deps.log.warn(rebuilt, 'Redis lost its jobs; queued again every pending alert and digest from PostgreSQL');
    return rebuilt;
  },
};

/**
 * Runs the rate-limited email and push senders (the deliveries queues' workers) for as
 * long as the worker runs, and every lease period re-queues the claims a dead sender left.
 */
export const deliveryChannelsTask: MaintenanceTask = {
  name: 'delivery-expired-claims',
  everyMs: (config) => config.DELIVERY_LEASE_SECONDS * 1000,
  async run(deps) {
    const requeued = await requeueExpiredClaims(deps, deps.queues.deliveries);
    if (requeued) deps.log.warn({ requeued }, 're-queued alerts whose send claim expired');
    return { requeued };
  },
  start: (deps) => startSenders(deps),
};

/** The hold expiry sweep, every hold_sweep_seconds (system_config, else HOLD_SWEEP_SECONDS). */
export const expireHoldsTask: MaintenanceTask = {
  name: 'expire-holds',
  everyMs: (_config, settings) => settings.hold_sweep_seconds * 1000,
  async run(deps) {
    const expired = await expireDueHolds(deps.pool, deps.config.HOLD_SWEEP_BATCH);
    if (expired) deps.log.info({ expired }, 'expired holds released');
    return { expired };
  },
};

/**
 * Hourly upkeep of rows that only matter for a while: sessions expired or revoked a week
 * ago, emailed links expired a week ago, and Idempotency-Keys older than a day (a client
 * retries within minutes).
 */
export const cleanupTask: MaintenanceTask = {
  name: 'cleanup-sessions-keys',
  everyMs: () => 3_600_000,
  async run(deps) {
    // in batches (inBatches): each DELETE a short transaction, however much built up
    const sessions = await inBatches((limit) => deleteStaleSessions(deps.pool, 7, limit));
    const links = await inBatches((limit) => deleteStaleTokens(deps.pool, 7, limit));
    const keys = await inBatches((limit) => deleteOldAnswers(deps.pool, 24, limit));
    if (sessions || links || keys) deps.log.info({ sessions, links, keys }, 'stale sessions, emailed links and idempotency keys deleted');
    return { sessions, links, keys };
  },
};

/**
 * Hourly: makes the coming weeks' and months' partitions, drops those older than their
 * retention setting, and deletes other tables' old rows in batches (src/jobs/retention.ts).
 */
export const retentionTask: MaintenanceTask = {
  name: 'retention',
  everyMs: () => 3_600_000,
  async run(deps) {
    const result = await runRetention(deps.pool, await deps.settings.all());
    if (result.created.length || result.dropped.length || result.kept.length || Object.values(result.deleted).some((n) => n))
      deps.log.info(result, 'retention: partitions made and dropped, old rows deleted');
    return result;
  },
};

/** Polls FEED_URL every FEED_POLL_SECONDS; a no-op when FEED_URL is unset. */
export const pollFeedTask: MaintenanceTask = {
  name: 'poll-feed',
  // with no feed configured the schedule is kept (the task list is static) but idles hourly
  everyMs: (config) => (config.FEED_URL ? config.FEED_POLL_SECONDS : 3600) * 1000,
  async run(deps) {
    if (!deps.config.FEED_URL) return { skipped: 'FEED_URL is not set' };
    return pollFeed(deps.pool, new HttpSlotFeed(deps.config.FEED_URL, deps.config.FEED_SOURCE), deps.log);
  },
};

/**
 * Folds the changes the counting triggers append into the counts /metrics reads, so a
 * scrape adds up at most a few seconds' worth of changes.
 */
export const foldMetricCountsTask: MaintenanceTask = {
  name: 'fold-metric-counts',
  everyMs: () => 10_000,
  run: async (deps) => ({ folded: await foldMetricCounts(deps.pool) }),
};

/** Every task a worker runs. */
export const maintenanceTasks: MaintenanceTask[] = [
  deliveryChannelsTask,
  expireHoldsTask,
  cleanupTask,
  retentionTask,
  pollReleasesTask,
  sweepPendingAlertsTask,
  pollFeedTask,
  foldMetricCountsTask,
];
