/** 'poll-feed': polls FEED_URL every FEED_POLL_SECONDS; a no-op when FEED_URL is unset. */
import type { MaintenanceTask } from './task.js';
import { HttpSlotFeed } from '../slots/feeds/http-feed.js';
import { pollFeed } from '../slots/feeds/poll.js';

export const pollFeedTask: MaintenanceTask = {
  name: 'poll-feed',
  // with no feed configured the schedule is kept (the task list is static) but idles hourly
  everyMs: (config) => (config.FEED_URL ? config.FEED_POLL_SECONDS : 3600) * 1000,
  async run(deps) {
    if (!deps.config.FEED_URL) return { skipped: 'FEED_URL is not set' };
    return pollFeed(deps.pool, new HttpSlotFeed(deps.config.FEED_URL, deps.config.FEED_SOURCE), deps.log);
  },
};
