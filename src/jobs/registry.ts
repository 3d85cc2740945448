/**
 * What the worker process runs. Each capability exports its tasks from its own folder;
 * this list is the one place that wires them in.
 */
import type { MaintenanceTask } from './task.js';
import { deliveryChannelsTask } from '../alerts/senders.js';
import { expireHoldsTask } from '../booking/expire-holds.js';
import { cleanupTask } from './cleanup-task.js';
import { pollReleasesTask, sweepPendingAlertsTask } from './alert-tasks.js';
import { pollFeedTask } from './feed-task.js';

export const maintenanceTasks: MaintenanceTask[] = [
  deliveryChannelsTask, // also runs the rate-limited email and push senders (the deliveries queues' workers)
  expireHoldsTask,
  cleanupTask,
  pollReleasesTask, // also LISTENs on 'slot_released' to match at once
  sweepPendingAlertsTask,
  pollFeedTask, // idles while FEED_URL is unset
];
