/**
 * Hourly upkeep of rows that only matter for a while: sessions expired or revoked a week
 * ago, and Idempotency-Keys older than a day (a client retries within minutes).
 */
import { deleteStaleSessions } from '../accounts/sessions.js';
import type { MaintenanceTask } from './task.js';
import { deleteOldAnswers } from '../booking/idempotency.js';

export const cleanupTask: MaintenanceTask = {
  name: 'cleanup-sessions-keys',
  everyMs: () => 3_600_000,
  async run(deps) {
    const sessions = await deleteStaleSessions(deps.pool, 7);
    const keys = await deleteOldAnswers(deps.pool, 24);
    if (sessions || keys) deps.log.info({ sessions, keys }, 'stale sessions and idempotency keys deleted');
    return { sessions, keys };
  },
};
