/**
 * The hand-off to delivery: one job per alert on the deliveries queue of its channel
 * (jobId = alert id, payload { alertId } only, priority from the user's tier). Adding a
 * jobId that still exists in the queue is a no-op in BullMQ, so handing the same alert
 * over twice never delivers twice from here.
 */
import type { Queryable } from '../db/types.js';
import { channelJobOptions, firstChannel, handOff, SEND_JOB, type ChannelQueues } from './deliveries.js';
import type { Channel } from './claims.js';
import { PRIORITY_BY_TIER } from '../queues/queues.js';
import type { PriorityTier } from './store.js';

export interface DeliverJobData {
  alertId: string;
}

export interface AlertToDeliver {
  id: string;
  priority: PriorityTier;
  /** The alert's channel as matching wrote it (its watch's method). */
  channel: Channel | null;
}

// a release near a city can owe thousands of alerts: hand them over in bounded pieces
const CHUNK = 1000;

async function markEnqueued(db: Queryable, ids: string[]): Promise<void> {
  await db.query(`UPDATE user_alerts SET enqueued_at = now() WHERE id = ANY ($1::uuid[])`, [ids]);
}

/**
 * Enqueues one job per newly written alert on its channel's queue, then records when they
 * were handed over. `pushConfigured`: whether this deployment can send push at all.
 */
export async function enqueueAlerts(queues: ChannelQueues, db: Queryable, alerts: AlertToDeliver[], pushConfigured: boolean): Promise<void> {
  for (let i = 0; i < alerts.length; i += CHUNK) {
    const chunk = alerts.slice(i, i + CHUNK);
    for (const channel of ['push', 'email'] as const) {
      const jobs = chunk.filter((a) => firstChannel(a.channel, pushConfigured) === channel);
      if (!jobs.length) continue;
      await queues[channel].addBulk(
        jobs.map((a) => ({
          name: SEND_JOB,
          data: { alertId: a.id } satisfies DeliverJobData,
          opts: channelJobOptions(a.id, PRIORITY_BY_TIER[a.priority]),
        })),
      );
    }
    await markEnqueued(db, chunk.map((a) => a.id));
  }
}

/**
 * Hands alerts over again (the sweep): unlike the first hand-off, a finished job still
 * kept under the alert's id (one that failed on infrastructure) is replaced, or it would
 * block the alert for good. Returns how many jobs were added.
 */
export async function requeueAlerts(queues: ChannelQueues, db: Queryable, alerts: AlertToDeliver[], pushConfigured: boolean): Promise<number> {
  let added = 0;
  for (const a of alerts) {
    if (await handOff(queues[firstChannel(a.channel, pushConfigured)], a.id, PRIORITY_BY_TIER[a.priority])) added++;
  }
  if (alerts.length) await markEnqueued(db, alerts.map((a) => a.id));
  return added;
}
