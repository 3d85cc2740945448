/**
 * Runs the channel senders (the deliveries queues' workers) inside the worker process and
 * keeps their claims honest.
 * `start` opens the mailer, the push sender and one rate-limited BullMQ worker per channel
 * queue; `run` (every lease period) re-queues alerts whose SENDING lease ran out with no
 * live job behind them (a sender killed mid-send whose job BullMQ has since failed), so a
 * crashed claim is always retaken.
 */
import { Worker } from 'bullmq';
import { workerMetrics, type Deps, type MaintenanceTask } from '../jobs/task.js';
import { bullPrefix } from '../queues/names.js';
import { batchedAlertStore } from './batched-store.js';
import { expiredClaims, type Channel } from './claims.js';
import { CHANNEL_QUEUES, channelQueues, handOff, type ChannelQueues } from './deliveries.js';
import { createMailer } from './email.js';
import { createPushSender } from './push.js';
import { sendProcessor } from './send-processor.js';

/** Re-queues alerts whose claim expired with no job left to retake it; returns how many. */
export async function requeueExpiredClaims(deps: Deps, queues: ChannelQueues, limit = 500): Promise<number> {
  let requeued = 0;
  for (const { id, channel } of await expiredClaims(deps.pool, limit)) {
    // a live job for it will retake the claim itself; handOff leaves that one alone
    if (await handOff(queues[channel ?? 'email'], id, undefined)) requeued++;
  }
  return requeued;
}

export const deliveryChannelsTask: MaintenanceTask = {
  name: 'delivery-expired-claims',
  everyMs: (config) => config.DELIVERY_LEASE_SECONDS * 1000,
  async run(deps) {
    const requeued = await requeueExpiredClaims(deps, channelQueues(deps.queues));
    if (requeued) deps.log.warn({ requeued }, 're-queued alerts whose send claim expired');
    return { requeued };
  },
  async start(deps) {
    const { config } = deps;
    const log = deps.log.child({ component: 'delivery' });
    const mailer = createMailer(config, log);
    const push = createPushSender(config);
    const store = batchedAlertStore(deps.pool, config.DELIVERY_LEASE_SECONDS);
    const sendDeps = { config, pool: deps.pool, log, mailer, push, channelQueues: channelQueues(deps.queues), store };
    const rates = async (): Promise<Record<Channel, number>> => {
      const s = await deps.settings.all(); // system_config over DELIVERY_*_PER_SECOND
      return { email: s.send_rate_email_per_second, push: s.send_rate_push_per_second };
    };
    const perSecond = await rates();
    const workers = (['email', 'push'] as const).map((channel) => {
      const w = new Worker(CHANNEL_QUEUES[channel], sendProcessor(sendDeps, channel), {
        connection: deps.redis,
        prefix: bullPrefix(config.QUEUE_PREFIX),
        concurrency: config.DELIVERY_CONCURRENCY,
        limiter: { max: perSecond[channel], duration: 1000 },
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
          (['email', 'push'] as const).forEach((channel, i) => {
            const w = workers[i]!;
            if (w.opts.limiter?.max !== r[channel]) {
              w.opts.limiter = { max: r[channel], duration: 1000 };
              log.info({ channel, perSecond: r[channel] }, 'send rate changed');
            }
          });
        })
        .catch((err: unknown) => log.warn({ err }, 'could not re-read send rates'));
    }, 5000);
    retune.unref();
    return async () => {
      clearInterval(retune);
      await Promise.all(workers.map((w) => w.close()));
      mailer.close();
    };
  },
};
