/**
 * The deliveries queues' processor (one queue per channel; job 'send', data { alertId },
 * jobId = alert id): claim the alert (only while its slot is still free, the user and
 * watch active and quiet hours over), send it, record the outcome. An alert that can no
 * longer be claimed is finished, marked SKIPPED, or waited for (quiet hours, another
 * sender's live claim). A passing failure gives the claim back and moves the job to
 * delayed with backoff (honouring Retry-After); a lasting one marks the alert FAILED.
 */
import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../config.js';
import { scrubError, scrubReason } from '../log.js';
import { deactivateSubscription, noteSubscriptionFailure } from '../watches/push-subscriptions.js';
import type { AlertStore } from './batched-store.js';
import { alertIdOf, DIGEST_JOB, handOff, handOffDigest, messageIdOf, sameShard, type ChannelQueues } from './deliveries.js';
import type { Mailer } from './email.js';
import { claimDigest, extendDigestLease, finishMessage, markDigestSent, readDigestState, releaseDigest } from './messages.js';
import { PermanentSendError, retryDelayMs, RetryableSendError } from './send-errors.js';
import { slotTopic, type PushOptions, type PushSender } from './push.js';
import { SMTP_RECEIVER, type RetryWaker } from './retry-wake.js';
import { routeAlert, type Route } from './route.js';
import { liveSubscriptions, settledOutcome } from './state.js';
import { digestItems, extendLease, markFailed, releaseClaim, type AlertContext, type Channel, type Claimed, type LiveSubscription, type SentMark } from './store.js';
import {
  alertFacts,
  messageFooter,
  renderAlertEmail,
  renderDigestEmail,
  renderDigestPush,
  renderPushPayload,
  unsubscribeUrl,
  type MessageFooter,
  type PushPayload,
} from './templates.js';


/** What a channel's processor sends with: made once per worker process by startSenders. */
export interface SendContext {
  config: Config;
  pool: pg.Pool;
  log: Logger;
  mailer: Mailer;
  push: PushSender | null;
  channelQueues: ChannelQueues;
  store: AlertStore;
  waker: RetryWaker;
}

/** Waits the job until `until` without counting a failed attempt; `then` runs once it is delayed. */
async function delayJob(job: Job, token: string | undefined, until: number, then?: () => Promise<void>): Promise<never> {
  await job.moveToDelayed(until, token);
  await then?.();
  throw new DelayedError();
}

/** Notes a job delayed after a refusal under the receivers that were down, so their recovery wakes it (retry-wake.ts). */
function noteRefused(d: SendContext, channel: Channel, job: Job, retry: RetryableSendError, log: () => Logger): () => Promise<void> {
  return () => d.waker.refused(channel, retry.receiversDown, job.id!, job.queueName).catch((err: unknown) => log().warn({ err }, 'could not note the retry under its receiver'));
}

/** A push subscription's receiver: its push service, named by the endpoint's origin. */
function pushReceiver(sub: LiveSubscription): string {
  return new URL(sub.endpoint).origin;
}

type SendResult = { kind: 'sent'; providerMessageId: string | null; acceptedSubscriptionIds: string[] } | { kind: 'fallback to email' };

async function sendEmail(d: SendContext, c: AlertContext, footer: MessageFooter): Promise<SendResult> {
  const base = d.config.PUBLIC_BASE_URL;
  const unsubscribe = unsubscribeUrl(base, c.unsubscribeToken);
  const content = renderAlertEmail(alertFacts(c, base), c.firstName, unsubscribe, footer);
  const { providerMessageId } = await d.mailer.send({ ...content, to: c.email, alertId: c.id, unsubscribeUrl: unsubscribe });
  d.waker.accepted('email', [SMTP_RECEIVER]);
  return { kind: 'sent', providerMessageId, acceptedSubscriptionIds: [] };
}

/** Seconds a push may wait for an offline browser: DELIVERY_PUSH_TTL_SECONDS, but not past `until`. */
function pushTtl(d: SendContext, until: Date): number {
  return Math.max(0, Math.min(d.config.DELIVERY_PUSH_TTL_SECONDS, Math.floor((until.getTime() - Date.now()) / 1000)));
}

/**
 * Sends to every live subscription of the user (their phone and their laptop). Any one
 * accepting is a delivery; a gone or malformed subscription is switched off, and when none
 * is left the alert falls back to email. Passing failures are retried only when no
 * subscription accepted, so a device that got the message is not sent it again.
 */
async function sendPush(d: SendContext, c: AlertContext, subs: LiveSubscription[], footer: MessageFooter): Promise<SendResult> {
  if (!d.push || subs.length === 0) return { kind: 'fallback to email' };
  const payload = renderPushPayload(alertFacts(c, d.config.PUBLIC_BASE_URL), c.slotId, footer);
  return pushToAll(d, subs, payload, { ttlSeconds: pushTtl(d, c.startTime), topic: slotTopic(c.slotId) });
}

/** One push message to each of the learner's live subscriptions; see sendPush. */
async function pushToAll(d: SendContext, subs: LiveSubscription[], payload: PushPayload, options: PushOptions): Promise<SendResult> {
  if (!d.push || subs.length === 0) return { kind: 'fallback to email' };
  const outcomes = await Promise.all(subs.map((s) => d.push!.send(s, payload, options)));
  const accepted = outcomes.filter((o) => o.kind === 'accepted');
  for (const o of outcomes) {
    if (o.kind === 'gone') await deactivateSubscription(d.pool, o.subscriptionId, `push service answered ${o.status}`);
    else if (o.kind === 'permanent') await deactivateSubscription(d.pool, o.subscriptionId, o.reason);
    else if (o.kind === 'retry') await noteSubscriptionFailure(d.pool, o.subscriptionId, o.reason);
  }
  if (accepted.length) {
    const byId = new Map(subs.map((s) => [s.id, s]));
    d.waker.accepted('push', [...new Set(accepted.map((o) => pushReceiver(byId.get(o.subscriptionId)!)))]);
    return { kind: 'sent', providerMessageId: accepted[0]!.messageId, acceptedSubscriptionIds: accepted.map((o) => o.subscriptionId) };
  }
  const retries = outcomes.filter((o) => o.kind === 'retry');
  if (retries.length) {
    const retryAfter = Math.max(0, ...retries.map((o) => o.retryAfterMs ?? 0));
    const byId = new Map(subs.map((s) => [s.id, s]));
    const down = retries.filter((o) => o.kind === 'retry' && o.receiverDown).map((o) => pushReceiver(byId.get(o.subscriptionId)!));
    throw new RetryableSendError(retries[0]!.reason, retryAfter || null, [...new Set(down)]);
  }
  const permanent = outcomes.find((o) => o.kind === 'permanent');
  if (permanent && outcomes.every((o) => o.kind === 'permanent')) throw new PermanentSendError(permanent.reason);
  return { kind: 'fallback to email' }; // every subscription is gone (or some gone, the rest malformed)
}

/** Tries of the SENT mark after a message went out, and the pause before the first retry. */
const MARK_TRIES = 5;
const MARK_RETRY_MS = 500;

/**
 * Keeps a claim's lease ahead of a send that is still running (a slow SMTP server, a
 * message waiting for a pooled connection), renewing it every third of the lease. The
 * lease exists to find senders that died; a live one must not have its alert retaken
 * and sent a second time. Returns the function that stops renewing.
 */
function keepLeased(d: SendContext, alertId: string, log: () => Logger, extend = extendLease): () => void {
  const leaseSeconds = d.config.DELIVERY_LEASE_SECONDS;
  const timer = setInterval(() => {
    extend(d.pool, alertId, leaseSeconds).catch((err: unknown) => log().warn({ err, alertId }, 'could not renew the send claim'));
  }, (leaseSeconds * 1000) / 3);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Records a message that has gone out. A database error here must not send it again: the
 * mark is retried in place with a growing pause (the lease still renewed) before giving
 * up, which leaves the alert SENDING for BullMQ's own retry to find once the lease ends.
 */
async function recordSent(d: SendContext, mark: SentMark, log: () => Logger): Promise<void> {
  await retryRecord(() => d.store.markSent(mark), { alertId: mark.alertId }, log);
}

const SENT_NOT_RECORDED = 'sent, but could not record it yet; retrying the record, not the send';

async function retryRecord(record: () => Promise<unknown>, about: object, log: () => Logger, what = SENT_NOT_RECORDED): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await record();
      return;
    } catch (err) {
      if (attempt >= MARK_TRIES) throw err;
      log().warn({ err, ...about, attempt }, what);
      await new Promise((r) => setTimeout(r, MARK_RETRY_MS * 2 ** (attempt - 1)));
    }
  }
}

/**
 * Sends a claimed alert, routed to its single message, and records how it went: SENT,
 * FAILED for good, given back to be retried after a backoff (the job moved to delayed),
 * or handed to email.
 */
async function sendClaimed(
  d: SendContext,
  channel: Channel,
  job: Job,
  token: string | undefined,
  claimed: Claimed,
  route: { messageId: string; reachesCap: boolean },
  log: () => Logger,
): Promise<unknown> {
  const { pool, config } = d;
  const { context: ctx, subscriptions } = claimed;
  const alertId = ctx.id;
  const footer = messageFooter(config.PUBLIC_BASE_URL, route.reachesCap);
  let result: SendResult;
  try {
    result = channel === 'email' ? await sendEmail(d, ctx, footer) : await sendPush(d, ctx, subscriptions, footer);
  } catch (err) {
    if (err instanceof PermanentSendError) {
      await markFailed(pool, alertId, err.message);
      log().warn({ err, alertId }, 'alert failed for good');
      throw new UnrecoverableError(err.message);
    }
    const retry = err instanceof RetryableSendError ? err : new RetryableSendError(scrubReason((err as Error).message));
    if (ctx.attempts >= config.DELIVERY_MAX_ATTEMPTS) {
      await markFailed(pool, alertId, `gave up after ${ctx.attempts} attempts: ${retry.message}`);
      throw new UnrecoverableError(retry.message);
    }
    await releaseClaim(pool, alertId, retry.message);
    const delay = retryDelayMs(ctx.attempts, config.DELIVERY_BACKOFF_MS, retry.retryAfterMs);
    log().info({ alertId, attempts: ctx.attempts, delay, reason: retry.message }, 'send refused for now; will retry');
    return delayJob(job, token, Date.now() + delay, noteRefused(d, channel, job, retry, log));
  }
  // outside the try: a database error after a successful send must not be taken for a
  // refused send and sent again (see recordSent)
  if (result.kind === 'fallback to email') {
    await releaseClaim(pool, alertId, 'no live push subscription');
    await handOff(sameShard(d.channelQueues.email, job, d.channelQueues[channel]), alertId, job.opts.priority);
    return { outcome: 'fallback to email' };
  }
  await recordSent(
    d,
    { alertId, messageId: route.messageId, channel, providerMessageId: result.providerMessageId, acceptedSubscriptionIds: result.acceptedSubscriptionIds },
    log,
  );
  return { outcome: 'SENT', channel };
}

/**
 * An alert job: claim the alert, then route it (route.ts): sent now in a message of its
 * own, gathered into the learner's digest (whose job is queued when this alert opened
 * it), or CAPPED.
 */
async function processAlert(d: SendContext, channel: Channel, job: Job, token: string | undefined): Promise<unknown> {
  const alertId = alertIdOf(job);
  // a child logger per job only when there is something to say (this path runs per message)
  const log = () => d.log.child({ queue: job.queueName, jobId: job.id });
  const claimed = await d.store.claim(alertId, channel);
  if (!claimed) {
    // find out why: finished, no longer wanted, someone else's live claim, quiet hours, or
    // the channel is not this one any more (the watch's method changed, or a push alert's
    // user has no live subscription: it goes by email instead)
    const ctx = await d.store.read(alertId);
    const settled = await settledOutcome(d.pool, alertId, ctx);
    if (settled || !ctx) return settled;
    if (ctx.leaseLiveUntil) return delayJob(job, token, ctx.leaseLiveUntil.getTime() + 100);
    if (ctx.quietUntil) return delayJob(job, token, ctx.quietUntil.getTime());
    if (channel === 'push' && ctx.liveSubscriptions === 0) {
      await handOff(sameShard(d.channelQueues.email, job, d.channelQueues[channel]), alertId, job.opts.priority);
      return { outcome: 'fallback to email', reason: ctx.method === 'email' ? 'the watch now asks for email' : 'no live push subscription' };
    }
    if (channel === 'email' && ctx.method === 'push' && d.push && ctx.liveSubscriptions > 0) {
      await handOff(sameShard(d.channelQueues.push, job, d.channelQueues[channel]), alertId, job.opts.priority);
      return { outcome: 'moved to push', reason: 'the watch now asks for push' };
    }
    throw new Error('alert could not be claimed; trying again'); // it changed under us: BullMQ's attempts retry
  }
  const stopRenewing = keepLeased(d, alertId, log);
  try {
    let route: Route;
    try {
      route = await routeAlert(d.pool, claimed.context);
    } catch (err) {
      // nothing has been sent: give the claim back, so that BullMQ's retry of this job can
      // take it again at once instead of waiting out the lease (a minute) of a sender that is
      // alive and has let go. Routing fails mostly when the database is away, so the release
      // is retried in place for a few seconds; if it cannot be written, the lease decides.
      await retryRecord(() => releaseClaim(d.pool, alertId, null), { alertId }, log, 'routing failed; giving the claim back').catch(() => {});
      throw err;
    }
    if (route.kind === 'capped' || route.kind === 'lost') return { outcome: route.kind === 'capped' ? 'CAPPED' : 'claim lost' };
    if (route.kind === 'digest') {
      if (route.opened) await handOffDigest(sameShard(d.channelQueues[channel], job, d.channelQueues[channel]), route.messageId, route.sendAfter, job.opts.priority);
      return { outcome: 'DIGESTED', messageId: route.messageId };
    }
    // queued before the send: should this job die mid-send, the digest still has its job
    if (route.digest) await handOffDigest(sameShard(d.channelQueues[channel], job, d.channelQueues[channel]), route.digest.messageId, route.digest.sendAfter, job.opts.priority);
    return await sendClaimed(d, channel, job, token, claimed, route, log);
  } finally {
    stopRenewing();
  }
}

/**
 * A digest job: claim the digest once it is due, leave out the slots no longer free, and
 * send the rest as one message on the channel its soonest slot's watch asks for now (the
 * job moves to that channel's queue if this is not it). Same retry rules as an alert.
 */
async function processDigest(d: SendContext, channel: Channel, job: Job, token: string | undefined): Promise<unknown> {
  const { pool, config } = d;
  const messageId = messageIdOf(job);
  const log = () => d.log.child({ queue: job.queueName, jobId: job.id });
  const claimed = await claimDigest(pool, messageId, config.DELIVERY_LEASE_SECONDS);
  if (!claimed) {
    const st = await readDigestState(pool, messageId);
    if (!st) return { outcome: 'gone' };
    if (st.status === 'SENT' || st.status === 'SKIPPED' || st.status === 'FAILED') return { outcome: `already ${st.status}` };
    if (!st.userActive) {
      await finishMessage(pool, messageId, 'SKIPPED', 'user is inactive');
      return { outcome: 'SKIPPED', reason: 'user is inactive' };
    }
    if (st.leaseLiveUntil) return delayJob(job, token, st.leaseLiveUntil.getTime() + 100);
    if (st.notBefore) return delayJob(job, token, st.notBefore.getTime());
    if (st.quietUntil) return delayJob(job, token, st.quietUntil.getTime());
    throw new Error('digest could not be claimed; trying again');
  }
  const stopRenewing = keepLeased(d, messageId, log, extendDigestLease);
  try {
    const items = await digestItems(pool, messageId);
    if (!items.length) {
      await finishMessage(pool, messageId, 'SKIPPED', 'every slot in it was taken');
      return { outcome: 'SKIPPED', reason: 'every slot in it was taken' };
    }
    // the channel as the watch of its soonest slot asks now
    const subs = items[0]!.method === 'push' && d.push ? await liveSubscriptions(pool, claimed.userId) : [];
    const want: Channel = subs.length ? 'push' : 'email';
    if (want !== channel) {
      await releaseDigest(pool, messageId, null);
      await handOffDigest(sameShard(d.channelQueues[want], job, d.channelQueues[channel]), messageId, null, job.opts.priority);
      return { outcome: `moved to ${want}` };
    }
    const base = config.PUBLIC_BASE_URL;
    const facts = items.map((i) => alertFacts(i, base));
    const footer = messageFooter(base, claimed.reachesCap);
    let result: SendResult;
    try {
      if (channel === 'email') {
        const unsubscribe = unsubscribeUrl(base, items[0]!.unsubscribeToken);
        const content = renderDigestEmail(facts, claimed.firstName, unsubscribe, footer);
        const sent = await d.mailer.send({ ...content, to: claimed.email, alertId: messageId, messageKey: `digest-${messageId}`, unsubscribeUrl: unsubscribe });
        d.waker.accepted('email', [SMTP_RECEIVER]);
        result = { kind: 'sent', providerMessageId: sent.providerMessageId, acceptedSubscriptionIds: [] };
      } else {
        const latest = items.reduce((t, i) => (i.startTime > t ? i.startTime : t), items[0]!.startTime);
        const payload = renderDigestPush(facts, items.map((i) => i.slotId), footer);
        result = await pushToAll(d, subs, payload, { ttlSeconds: pushTtl(d, latest), topic: slotTopic(messageId) });
      }
    } catch (err) {
      if (err instanceof PermanentSendError) {
        await finishMessage(pool, messageId, 'FAILED', err.message);
        throw new UnrecoverableError(err.message);
      }
      const retry = err instanceof RetryableSendError ? err : new RetryableSendError(scrubReason((err as Error).message));
      if (claimed.attempts >= config.DELIVERY_MAX_ATTEMPTS) {
        await finishMessage(pool, messageId, 'FAILED', `gave up after ${claimed.attempts} attempts: ${retry.message}`);
        throw new UnrecoverableError(retry.message);
      }
      await releaseDigest(pool, messageId, retry.message);
      return delayJob(job, token, Date.now() + retryDelayMs(claimed.attempts, config.DELIVERY_BACKOFF_MS, retry.retryAfterMs), noteRefused(d, channel, job, retry, log));
    }
    if (result.kind === 'fallback to email') {
      await releaseDigest(pool, messageId, 'no live push subscription');
      await handOffDigest(sameShard(d.channelQueues.email, job, d.channelQueues[channel]), messageId, null, job.opts.priority);
      return { outcome: 'fallback to email' };
    }
    const providerMessageId = result.providerMessageId;
    await retryRecord(() => markDigestSent(pool, messageId, channel, providerMessageId), { messageId }, log);
    return { outcome: 'SENT', channel, alerts: items.length };
  } finally {
    stopRenewing();
  }
}

/**
 * The processor for one channel queue: alert jobs and digest jobs. Whatever it throws is
 * scrubbed of addresses first: BullMQ keeps a failure's message and stack in Redis.
 */
export function sendProcessor(d: SendContext, channel: Channel): Processor {
  return async (job, token) => {
    try {
      return await (job.name === DIGEST_JOB ? processDigest(d, channel, job, token) : processAlert(d, channel, job, token));
    } catch (err) {
      throw scrubError(err);
    }
  };
}
