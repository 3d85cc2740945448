/**
 * The channel queues' processor: claim the alert (only while its slot is still free),
 * send it, record the outcome. A passing failure gives the claim back and moves the job
 * to delayed with backoff (honouring Retry-After); a lasting one marks the alert FAILED.
 */
import { UnrecoverableError, type Processor } from 'bullmq';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../config.js';
import { deactivateSubscription, noteSubscriptionFailure } from '../push/subscriptions.js';
import type { AlertStore } from './alert-store.js';
import { markFailed, releaseClaim, settledOutcome, type AlertContext, type Channel, type LiveSubscription } from './alerts.js';
import { retryDelayMs } from './backoff.js';
import { handOff, type ChannelQueues } from './channel-queues.js';
import type { Mailer } from './email.js';
import { PermanentSendError, RetryableSendError } from './errors.js';
import { alertIdOf, delayJob } from './processor.js';
import { slotTopic, type PushSender } from './push.js';
import { alertFacts, renderAlertEmail, renderPushPayload, unsubscribeUrl } from './templates.js';

export interface SendDeps {
  config: Config;
  pool: pg.Pool;
  log: Logger;
  mailer: Mailer;
  push: PushSender | null;
  channelQueues: ChannelQueues;
  store: AlertStore;
}

type SendResult = { kind: 'sent'; providerMessageId: string | null; acceptedSubscriptionIds: string[] } | { kind: 'fallback to email' };

async function sendEmail(d: SendDeps, c: AlertContext): Promise<SendResult> {
  const base = d.config.PUBLIC_BASE_URL;
  const unsubscribe = unsubscribeUrl(base, c.unsubscribeToken!);
  const content = renderAlertEmail(alertFacts(c, base), c.firstName, unsubscribe);
  const { providerMessageId } = await d.mailer.send({ ...content, to: c.email, alertId: c.id, unsubscribeUrl: unsubscribe });
  return { kind: 'sent', providerMessageId, acceptedSubscriptionIds: [] };
}

/**
 * Sends to every live subscription of the user (their phone and their laptop). Any one
 * accepting is a delivery; a gone or malformed subscription is switched off, and when none
 * is left the alert falls back to email. Passing failures are retried only when no
 * subscription accepted, so a device that got the message is not sent it again.
 */
async function sendPush(d: SendDeps, c: AlertContext, subs: LiveSubscription[]): Promise<SendResult> {
  if (!d.push || subs.length === 0) return { kind: 'fallback to email' };
  const payload = renderPushPayload(alertFacts(c, d.config.PUBLIC_BASE_URL), c.slotId);
  const ttlSeconds = Math.max(0, Math.min(d.config.DELIVERY_PUSH_TTL_SECONDS, Math.floor((c.startTime.getTime() - Date.now()) / 1000)));
  const outcomes = await Promise.all(subs.map((s) => d.push!.send(s, payload, { ttlSeconds, topic: slotTopic(c.slotId) })));
  const accepted = outcomes.filter((o) => o.kind === 'accepted');
  for (const o of outcomes) {
    if (o.kind === 'gone') await deactivateSubscription(d.pool, o.subscriptionId, `push service answered ${o.status}`);
    else if (o.kind === 'permanent') await deactivateSubscription(d.pool, o.subscriptionId, o.reason);
    else if (o.kind === 'retry') await noteSubscriptionFailure(d.pool, o.subscriptionId, o.reason);
  }
  if (accepted.length) {
    return { kind: 'sent', providerMessageId: accepted[0]!.messageId, acceptedSubscriptionIds: accepted.map((o) => o.subscriptionId) };
  }
  const retries = outcomes.filter((o) => o.kind === 'retry');
  if (retries.length) {
    const retryAfter = Math.max(0, ...retries.map((o) => o.retryAfterMs ?? 0));
    throw new RetryableSendError(retries[0]!.reason, retryAfter || null);
  }
  const permanent = outcomes.find((o) => o.kind === 'permanent');
  if (permanent && outcomes.every((o) => o.kind === 'permanent')) throw new PermanentSendError(permanent.reason);
  return { kind: 'fallback to email' }; // every subscription is gone (or some gone, the rest malformed)
}

/** The processor for one channel queue. */
export function sendProcessor(d: SendDeps, channel: Channel): Processor {
  const { pool, config } = d;
  return async (job, token) => {
    const alertId = alertIdOf(job);
    // a child logger per job only when there is something to say (this path runs per message)
    const log = () => d.log.child({ queue: job.queueName, jobId: job.id });
    const claimed = await d.store.claim(alertId, channel);
    if (!claimed) {
      // find out why: finished, no longer wanted, or someone else's live claim
      const ctx = await d.store.read(alertId);
      const settled = await settledOutcome(pool, alertId, ctx);
      if (settled || !ctx) return settled;
      if (ctx.leaseLiveUntil) return delayJob(job, token, ctx.leaseLiveUntil.getTime() + 100);
      if (ctx.quietUntil) return delayJob(job, token, ctx.quietUntil.getTime());
      throw new Error('alert could not be claimed; trying again'); // it changed under us: BullMQ's attempts retry
    }
    const { context: ctx, subscriptions } = claimed;
    let result: SendResult;
    try {
      result = channel === 'email' ? await sendEmail(d, ctx) : await sendPush(d, ctx, subscriptions);
    } catch (err) {
      if (err instanceof PermanentSendError) {
        await markFailed(pool, alertId, err.message);
        log().warn({ err, alertId }, 'alert failed for good');
        throw new UnrecoverableError(err.message);
      }
      const retry = err instanceof RetryableSendError ? err : new RetryableSendError((err as Error).message);
      if (ctx.attempts >= config.DELIVERY_MAX_ATTEMPTS) {
        await markFailed(pool, alertId, `gave up after ${ctx.attempts} attempts: ${retry.message}`);
        throw new UnrecoverableError(retry.message);
      }
      await releaseClaim(pool, alertId, retry.message);
      const delay = retryDelayMs(ctx.attempts, config.DELIVERY_BACKOFF_MS, retry.retryAfterMs);
      log().info({ alertId, attempts: ctx.attempts, delay, reason: retry.message }, 'send refused for now; will retry');
      return delayJob(job, token, Date.now() + delay);
    }
    // outside the try: a database error after a successful send must not be taken for a
    // refused send and sent again; the alert keeps its SENDING lease and BullMQ retries
    if (result.kind === 'fallback to email') {
      await releaseClaim(pool, alertId, 'no live push subscription');
      await handOff(d.channelQueues.email, alertId, job.opts.priority);
      return { outcome: 'fallback to email' };
    }
    await d.store.markSent({ alertId, channel, providerMessageId: result.providerMessageId, acceptedSubscriptionIds: result.acceptedSubscriptionIds });
    return { outcome: 'SENT', channel };
  };
}
