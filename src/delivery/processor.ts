/**
 * The deliveries queue's processor (job 'deliver', data { alertId }, jobId = alert id):
 * decides whether and how an alert goes out and hands it to its channel's queue, where
 * the rate-limited sender claims, sends and records it (send-processor.ts).
 */
import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { Deps } from '../queues/tasks.js';
import { batchedAlertStore } from './alert-store.js';
import { settledOutcome, type AlertState, type Channel } from './alerts.js';
import { createChannelQueues, handOff } from './channel-queues.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The alert id of a delivery job; a job without a valid one can never succeed. */
export function alertIdOf(job: Job): string {
  const id = (job.data as { alertId?: unknown } | undefined)?.alertId;
  if (typeof id !== 'string' || !UUID.test(id)) throw new UnrecoverableError('job data has no valid alertId');
  return id;
}

/** Push when the watch asks for it and the user has a live subscription (and we have VAPID keys); else email. */
export function chooseChannel(c: AlertState, pushConfigured: boolean): Channel {
  return c.method === 'push' && pushConfigured && c.liveSubscriptions > 0 ? 'push' : 'email';
}

/** Waits the job until `until` without counting a failed attempt. */
export async function delayJob(job: Job, token: string | undefined, until: number): Promise<never> {
  await job.moveToDelayed(until, token);
  throw new DelayedError();
}

/** The deliveries queue's processor, for the worker registry. */
export function deliveryProcessor(deps: Deps): Processor {
  const { pool, config } = deps;
  // producers on the worker's shared connection; BullMQ does not close a connection it was given
  const channelQueues = createChannelQueues(deps.redis, config.QUEUE_PREFIX);
  const pushConfigured = Boolean(config.VAPID_PUBLIC_KEY && config.VAPID_PRIVATE_KEY);
  const store = batchedAlertStore(pool, config.DELIVERY_LEASE_SECONDS);

  return async (job, token) => {
    const alertId = alertIdOf(job);
    const ctx = await store.read(alertId);
    const settled = await settledOutcome(pool, alertId, ctx);
    if (settled || !ctx) return settled;
    // quiet hours: wait here, before the channel queue, so the limiter is not held up;
    // when the job comes back every check above runs again (a slot gone by then is skipped)
    if (ctx.quietUntil) return delayJob(job, token, ctx.quietUntil.getTime());
    const channel = chooseChannel(ctx, pushConfigured);
    const added = await handOff(channelQueues[channel], alertId, job.opts.priority);
    return { outcome: added ? 'handed off' : 'already queued', channel };
  };
}
