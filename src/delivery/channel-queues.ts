/**
 * One queue per channel after the deliveries queue, so each gets BullMQ's own rate
 * limiter (a Worker's limiter caps its whole queue): DELIVERY_EMAIL_PER_SECOND and
 * DELIVERY_PUSH_PER_SECOND. A job over the limit waits in its queue; none is dropped.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullPrefix, QUEUES } from '../queues/names.js';
import type { Channel } from './alerts.js';

export const CHANNEL_QUEUES: Record<Channel, string> = { email: QUEUES.deliveriesEmail, push: QUEUES.deliveriesPush };

export type ChannelQueues = Record<Channel, Queue>;

/** Producers for both channel queues on one shared connection. */
export function createChannelQueues(connection: Redis, queuePrefix: string): ChannelQueues {
  const prefix = bullPrefix(queuePrefix);
  return {
    email: new Queue(CHANNEL_QUEUES.email, { connection, prefix }),
    push: new Queue(CHANNEL_QUEUES.push, { connection, prefix }),
  };
}

/**
 * Options for a channel job: the alert id as job id (a second hand-off of the same alert
 * is ignored while the first is queued), the priority it came with (URGENT first). The
 * few BullMQ attempts only cover infrastructure hiccups (the database away); a receiver's
 * refusal is retried by the processor itself, which moves the job to delayed.
 */
export function channelJobOptions(alertId: string, priority: number | undefined): JobsOptions {
  return {
    jobId: alertId,
    ...(priority ? { priority } : {}),
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { count: 1000 },
  };
}

const FINISHED_STATES = new Set(['completed', 'failed']);

/**
 * Queues the alert on a channel. A live job for it (waiting, delayed, active) makes this a
 * no-op, which is what keeps a second hand-off from sending twice; a finished one (a send
 * job that failed on infrastructure, or a completed job still kept) is removed first, or
 * its id would block the alert for good. Returns whether a job was added.
 */
export async function handOff(queue: Queue, alertId: string, priority: number | undefined): Promise<boolean> {
  const state = await queue.getJobState(alertId);
  if (state !== 'unknown' && !FINISHED_STATES.has(state)) return false;
  if (state !== 'unknown') await queue.remove(alertId);
  await queue.add('send', { alertId }, channelJobOptions(alertId, priority));
  return true;
}
