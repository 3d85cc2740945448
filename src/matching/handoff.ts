/**
 * The hand-off to delivery (issue 5's processor): one 'deliver' job per alert on the
 * deliveries queue, jobId = alert id, payload { alertId } only, priority from the user's
 * tier. Adding a jobId that still exists in the queue is a no-op in BullMQ, so handing
 * the same alert over twice (the sweep after a crash) never delivers twice from here.
 */
import type { Queue } from 'bullmq';
import type { Queryable } from '../db/types.js';
import { PRIORITY_BY_TIER } from '../queues/queues.js';
import type { PriorityTier } from './alerts.js';

export const DELIVER_JOB = 'deliver';

export interface DeliverJobData {
  alertId: string;
}

export interface AlertToDeliver {
  id: string;
  priority: PriorityTier;
}

// a release near a city can owe thousands of alerts: hand them over in bounded pieces
const CHUNK = 1000;

/** Enqueues one delivery job per alert, then records when they were handed over. */
export async function enqueueAlerts(queue: Queue, db: Queryable, alerts: AlertToDeliver[]): Promise<void> {
  for (let i = 0; i < alerts.length; i += CHUNK) {
    const chunk = alerts.slice(i, i + CHUNK);
    await queue.addBulk(
      chunk.map((a) => ({
        name: DELIVER_JOB,
        data: { alertId: a.id } satisfies DeliverJobData,
        opts: {
          jobId: a.id,
          priority: PRIORITY_BY_TIER[a.priority],
          attempts: 6,
          backoff: { type: 'exponential', delay: 5_000 },
          removeOnComplete: true,
          // kept a week so the jobId still refuses a duplicate and an operator can look
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    );
    await db.query(`UPDATE user_alerts SET enqueued_at = now() WHERE id = ANY ($1::uuid[])`, [chunk.map((a) => a.id)]);
  }
}
