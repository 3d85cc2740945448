/**
 * The deliveries queues and their job contract. Queues per channel (DELIVERY_SHARDS of
 * them, each with its own hash tag so that a Redis Cluster spreads them over its shards),
 * so each gets BullMQ's own rate limiter (a Worker's limiter caps its whole queue): a job
 * over the limit waits in its queue; none is dropped. A job's shard is a hash of its user's
 * id (shardIndex): one learner's alerts and digest share a queue, and every hand-off of the
 * same alert or digest finds the same queue (which is what keeps a second one a no-op). Every job is one alert: name `send`, data
 * `{ alertId }` and nothing else, jobId = the alert id, priority from the user's tier.
 * Matching hands each alert straight to the queue of its channel, so a message costs one
 * BullMQ job: the sender re-checks everything a separate routing step would (slot still
 * free, user and watch active, quiet hours) in the statement that claims the alert.
 */
import { UnrecoverableError, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { Queryable } from '../db/types.js';
import { shardIndex } from '../queues/names.js';
import { findStrandedAlerts, type AlertToDeliver, type StrandedQuery } from './state.js';
import { markDigestsEnqueued, pendingDigests, strandedDigests } from './messages.js';
import { markEnqueued, type Channel, type PriorityTier } from './store.js';

/** The name of every job on a channel queue. */
export const SEND_JOB = 'send';

/** A channel job's data: the alert's id, nothing personal. */
export interface DeliverJobData {
  alertId: string;
}

/**
 * The name of a digest's job on a channel queue: data `{ messageId }`, job id
 * `digest-<messageId>` (so a digest is queued once however many alerts join it), delayed
 * until the digest is due.
 */
export const DIGEST_JOB = 'digest';

export interface DigestJobData {
  messageId: string;
}

export function digestJobId(messageId: string): string {
  return `digest-${messageId}`;
}

/** BullMQ priorities (1 is served first) for a user's tier: URGENT before VIP before NORMAL. */
export const PRIORITY_BY_TIER: Record<PriorityTier, number> = { URGENT: 1, VIP: 2, NORMAL: 3 };

/** Each channel's queues, in shard order. */
export type ChannelQueues = Record<Channel, Queue[]>;


/** The queue of a channel's shards that holds the jobs of the user `userId`. */
export function shardFor(shards: Queue[], userId: string): Queue {
  return shards[shardIndex(userId, shards.length)]!;
}

/**
 * The queue of a channel's shards at the same place as the queue `job` is on: a job that
 * hands its alert or digest to another channel (or queues a digest) stays on its user's shard.
 */
export function sameShard(shards: Queue[], job: Pick<Job, 'queueName'>, from: Queue[]): Queue {
  const i = from.findIndex((q) => q.name === job.queueName);
  return shards[i < 0 ? 0 : i]!;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The alert id of a delivery job; a job without a valid one can never succeed. */
export function alertIdOf(job: Job): string {
  const id = (job.data as Partial<DeliverJobData> | undefined)?.alertId;
  if (typeof id !== 'string' || !UUID.test(id)) throw new UnrecoverableError('job data has no valid alertId');
  return id;
}

/** The message id of a digest job. */
export function messageIdOf(job: Job): string {
  const id = (job.data as Partial<DigestJobData> | undefined)?.messageId;
  if (typeof id !== 'string' || !UUID.test(id)) throw new UnrecoverableError('job data has no valid messageId');
  return id;
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
  return addUnlessLive(queue, SEND_JOB, { alertId } satisfies DeliverJobData, alertId, channelJobOptions(alertId, priority));
}

/** Adds a job unless one with its id is live; a finished one under that id is replaced. */
async function addUnlessLive(queue: Queue, name: string, data: object, jobId: string, opts: JobsOptions): Promise<boolean> {
  const state = await queue.getJobState(jobId);
  if (state !== 'unknown' && !FINISHED_STATES.has(state)) return false;
  if (state !== 'unknown') await queue.remove(jobId);
  await queue.add(name, data, opts);
  return true;
}

/**
 * Queues a digest's job on a channel, delayed until it is due (the same rules as
 * handOff: a live job makes this a no-op). Returns whether a job was added.
 */
export async function handOffDigest(queue: Queue, messageId: string, due: Date | null, priority: number | undefined): Promise<boolean> {
  const delay = due ? Math.max(0, due.getTime() - Date.now()) : 0;
  const jobId = digestJobId(messageId);
  return addUnlessLive(queue, DIGEST_JOB, { messageId } satisfies DigestJobData, jobId, { ...channelJobOptions(jobId, priority), delay });
}

// a release near a city can owe thousands of alerts: hand them over in bounded pieces
const CHUNK = 1000;

/**
 * Matching's hand-off: one job per newly written alert on its channel's queue, then a
 * record of when they were handed over. Adding a jobId that is still in the queue is a
 * no-op in BullMQ, so handing the same alert over twice never delivers twice from here.
 * `pushConfigured`: whether this deployment can send push at all.
 */
export async function enqueueAlerts(queues: ChannelQueues, db: Queryable, alerts: AlertToDeliver[], pushConfigured: boolean): Promise<void> {
  for (let i = 0; i < alerts.length; i += CHUNK) {
    const chunk = alerts.slice(i, i + CHUNK);
    for (const channel of ['push', 'email'] as const) {
      const shards = queues[channel];
      const jobs = chunk.filter((a) => firstChannel(a.channel, pushConfigured) === channel);
      // one addBulk per shard: a cluster runs each within its queue's slot
      for (let i = 0; i < shards.length; i++) {
        const mine = jobs.filter((a) => shardIndex(a.userId, shards.length) === i);
        if (!mine.length) continue;
        await shards[i]!.addBulk(
          mine.map((a) => ({ name: SEND_JOB, data: { alertId: a.id } satisfies DeliverJobData, opts: channelJobOptions(a.id, PRIORITY_BY_TIER[a.priority]) })),
        );
      }
    }
    await markEnqueued(db, chunk.map((a) => a.id));
  }
}

/**
 * Hands alerts over again: unlike the first hand-off, a finished job still kept under the
 * alert's id (one that failed on infrastructure) is replaced, or it would block the alert
 * for good. Returns how many jobs were added.
 */
export async function requeueAlerts(queues: ChannelQueues, db: Queryable, alerts: AlertToDeliver[], pushConfigured: boolean): Promise<number> {
  let added = 0;
  for (const a of alerts) {
    if (await handOff(shardFor(queues[firstChannel(a.channel, pushConfigured)], a.userId), a.id, PRIORITY_BY_TIER[a.priority])) added++;
  }
  if (alerts.length) await markEnqueued(db, alerts.map((a) => a.id));
  return added;
}

/**
 * The safety net of the hand-off: re-enqueues PENDING alerts that never reached their
 * queue or lost their job (see findStrandedAlerts). Re-adding is safe: a live job with that
 * id makes it a no-op. Returns how many jobs were added.
 */
export async function sweepPendingAlerts(queues: ChannelQueues, db: Queryable, o: StrandedQuery, pushConfigured: boolean): Promise<number> {
  return (await requeueAlerts(queues, db, await findStrandedAlerts(db, o), pushConfigured)) + (await sweepDigests(queues, db, o));
}

/**
 * Re-queues digests that are overdue with no live job (lost with Redis, or never added
 * after a crash) or whose sender died mid-send. The digest's processor moves it to the
 * right channel queue if this is not it.
 */
export async function sweepDigests(queues: ChannelQueues, db: Queryable, o: Pick<StrandedQuery, 'requeueSeconds' | 'limit'>): Promise<number> {
  const stranded = await strandedDigests(db, o.requeueSeconds, o.limit);
  let added = 0;
  for (const { id, userId } of stranded) {
    const jobId = digestJobId(id);
    const states = await Promise.all([shardFor(queues.email, userId).getJobState(jobId), shardFor(queues.push, userId).getJobState(jobId)]);
    if (states.some((state) => state !== 'unknown' && !FINISHED_STATES.has(state))) continue;
    if (await handOffDigest(shardFor(queues.email, userId), id, null, undefined)) added++;
  }
  await markDigestsEnqueued(db, stranded.map((d) => d.id));
  return added;
}

/**
 * Puts back at once what a Redis that lost its data (a restart without persistence, a
 * failover to an empty replica) took with it: a job for every PENDING alert, however
 * recently handed over, and for every PENDING digest, delayed until it is due. The sweep
 * would find the alerts only ALERT_REQUEUE_SECONDS after their hand-off. Job ids are the
 * alert and message ids, so a job that survived, or one matching adds meanwhile, is not
 * doubled. Claims a dead sender left are the lease's business (requeueExpiredClaims).
 */
export async function rebuildQueues(queues: ChannelQueues, db: Queryable, pushConfigured: boolean, limit: number): Promise<{ alerts: number; digests: number }> {
  const stranded = await findStrandedAlerts(db, { graceSeconds: 0, requeueSeconds: 0, limit });
  const alerts = await requeueAlerts(queues, db, stranded, pushConfigured);
  const pending = await pendingDigests(db, limit);
  let digests = 0;
  for (const d of pending) if (await handOffDigest(shardFor(queues.email, d.userId), d.id, d.sendAfter, undefined)) digests++;
  await markDigestsEnqueued(db, pending.map((d) => d.id));
  return { alerts, digests };
}
