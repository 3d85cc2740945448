/**
 * The channel senders: one rate-limited BullMQ worker per deliveries queue, run inside the
 * worker process, and the upkeep that keeps their claims honest.
 */
import { Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Queryable } from '../db/types.js';
import { bullPrefix } from '../queues/names.js';
import type { RedisConnection } from '../queues/redis.js';
import { closeWorker, workerMetrics, type Queues } from '../queues/queues.js';
import type { SettingsCache } from '../settings/settings.js';
import type { HostLookup } from '../watches/push-endpoints.js';
import { batchedAlertStore } from './batched-store.js';
import { handOff, shardFor, type ChannelQueues } from './deliveries.js';
import { createMailer } from './email.js';
import { createPushSender } from './push.js';
import { retryWaker } from './retry-wake.js';
import { sendProcessor } from './send-processor.js';
import { expiredClaims } from './state.js';
import type { Channel } from './store.js';

/**
 * Re-queues alerts whose SENDING lease ran out with no live job behind them (a sender
 * killed mid-send whose job BullMQ has since failed), so a crashed claim is always
 * retaken. Returns how many.
 */
export async function requeueExpiredClaims(o: { pool: Queryable }, queues: ChannelQueues, limit = 500): Promise<number> {
  let requeued = 0;
  for (const { id, userId, channel } of await expiredClaims(o.pool, limit)) {
    // a live job for it will retake the claim itself; handOff leaves that one alone
    if (await handOff(shardFor(queues[channel ?? 'email'], userId), id, undefined)) requeued++;
  }
  return requeued;
}

export interface SendersOptions {
  config: Config;
  pool: pg.Pool;
  /** A worker-role connection (maxRetriesPerRequest: null), as BullMQ workers need. */
  redis: RedisConnection;
  queues: Queues;
  log: Logger;
  /** Send rates per channel: system_config over DELIVERY_*_PER_SECOND. */
  settings: Pick<SettingsCache, 'all'>;
  /** Resolves push endpoint hosts as the sender connects (dns.lookup when unset). */
  lookupHost?: HostLookup;
}

/**
 * Every table a match or a send reads or writes, named once so that each connection has
 * parsed them: a new PostgreSQL backend loads each relation's catalog entries on first use.
 */
const WARM_SQL = `SELECT 1 FROM slot_releases r, watch_coverage v, user_alerts a, alert_messages m, users u,
                         user_preferences w, push_subscriptions p, time_slots s, test_centers c LIMIT 0`;

/**
 * Opens the pool's connections (the matcher shares them) and has each parse those tables
 * before the first job, so that the first burst after a start does not pay for new
 * backends while learners wait: in bench/e2e.ts it took the first burst from 2.8 to 2.1
 * times the p95 of the same burst once warm. Each query gives its connection back as it
 * ends: checking them all out at once would wait for ever on one that another task of
 * the worker holds while it waits for a second.
 */
async function warmPool(pool: pg.Pool, connections: number): Promise<void> {
  await Promise.all(Array.from({ length: connections }, () => pool.query(WARM_SQL)));
}

/**
 * The BullMQ limiter of one of a channel's `shards` queues, so that the channel as a whole
 * sends `perSecond`: each queue gets ceil(perSecond / shards) jobs per window, the window
 * stretched to match (200/s over 2 shards: 100 per 1,000 ms each; 3/s over 2: 2 per
 * 1,333 ms each). A queue's limiter caps that queue across every worker process.
 */
export function shardLimiter(perSecond: number, shards: number): { max: number; duration: number } {
  const max = Math.ceil(perSecond / shards);
  return { max, duration: Math.round((1000 * max * shards) / perSecond) };
}

/**
 * Opens the mailer, the push sender and one rate-limited BullMQ worker per channel queue;
 * returns the function that closes them (active sends finish first).
 */
export async function startSenders(o: SendersOptions): Promise<() => Promise<void>> {
  const { config } = o;
  const log = o.log.child({ component: 'delivery' });
  const mailer = createMailer(config, log);
  const push = createPushSender(config, { lookupHost: o.lookupHost });
  const store = batchedAlertStore(o.pool, config.DELIVERY_LEASE_SECONDS, push !== null);
  const queues = o.queues.deliveries;
  const context = { config, pool: o.pool, log, mailer, push, channelQueues: queues, store, waker: retryWaker(queues, o.redis, log) };
  const rates = async (): Promise<Record<Channel, number>> => {
    const s = await o.settings.all();
    return { email: s.send_rate_email_per_second, push: s.send_rate_push_per_second };
  };
  const perSecond = await rates();
  await warmPool(o.pool, Math.min(config.DATABASE_POOL_MAX, config.DELIVERY_CONCURRENCY));
  // one worker per queue of every channel; the concurrency is the channel's, shared out
  const channels = (['email', 'push'] as const).flatMap((channel) => queues[channel].map((q) => ({ channel, name: q.name, shards: queues[channel].length })));
  const workers = channels.map(({ channel, name, shards }) => {
    const w = new Worker(name, sendProcessor(context, channel), {
      connection: o.redis,
      prefix: bullPrefix(config.QUEUE_PREFIX, name),
      concurrency: Math.max(1, Math.ceil(config.DELIVERY_CONCURRENCY / shards)),
      limiter: shardLimiter(perSecond[channel], shards),
      metrics: workerMetrics,
    });
    w.on('error', (err) => log.error({ err, queue: w.name }, 'worker error'));
    w.on('failed', (job, err) => log.warn({ err, queue: w.name, jobId: job?.id }, 'send job failed'));
    return w;
  });
  // BullMQ hands a worker's limiter options to Redis on every fetch, so changing them
  // here retunes the rate of a running sender when an admin changes the setting
  const retune = setInterval(() => {
    rates()
      .then((r) => {
        channels.forEach(({ channel, shards }, i) => {
          const w = workers[i]!;
          const limiter = shardLimiter(r[channel], shards);
          if (w.opts.limiter?.max !== limiter.max || w.opts.limiter.duration !== limiter.duration) {
            w.opts.limiter = limiter;
            log.info({ channel, queue: w.name, perSecond: r[channel] }, 'send rate changed');
          }
        });
      })
      .catch((err: unknown) => log.warn({ err }, 'could not re-read send rates'));
  }, 5000);
  retune.unref();
  return async () => {
    clearInterval(retune);
    await Promise.all(workers.map((w) => closeWorker(w, log)));
    mailer.close();
  };
}
