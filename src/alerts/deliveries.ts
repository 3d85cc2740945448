/**
 * The deliveries queues: one per channel, so each gets BullMQ's own rate limiter (a
 * Worker's limiter caps its whole queue): DELIVERY_EMAIL_PER_SECOND and
 * DELIVERY_PUSH_PER_SECOND. A job over the limit waits in its queue; none is dropped.
 * Matching hands each alert straight to the queue of its channel, so a message costs one
 * BullMQ job: the sender re-checks everything a separate routing step would (slot still
 * free, user and watch active, quiet hours) in the statement that claims the alert.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { QUEUES } from '../queues/names.js';
import type { Queues } from '../queues/queues.js';
import type { Channel } from './claims.js';

export const CHANNEL_QUEUES: Record<Channel, string> = { email: QUEUES.deliveriesEmail, push: QUEUES.deliveriesPush };

/** The name of every job on a channel queue (data: { alertId }, jobId: the alert id). */
export const SEND_JOB = 'send';

export type ChannelQueues = Record<Channel, Queue>;

/** The channel queues among a process's queues. */
export function channelQueues(queues: Pick<Queues, 'deliveriesEmail' | 'deliveriesPush'>): ChannelQueues {
  return { email: queues.deliveriesEmail, push: queues.deliveriesPush };
}

/**
 * The channel an alert is first queued on: its watch's method, but email when this
 * deployment has no VAPID keys. A push alert whose user has no live subscription is
 * handed to email by the push sender itself, which reads the subscriptions as it claims.
 */
export function firstChannel(method: Channel | null, pushConfigured: boolean): Channel {
  return method === 'push' && pushConfigured ? 'push' : 'email';
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
  await queue.add(SEND_JOB, { alertId }, channelJobOptions(alertId, priority));
  return true;
}
