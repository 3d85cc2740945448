import { MetricsTime, Queue, type Worker } from 'bullmq';
import type { Logger } from 'pino';
import { bullPrefix, CHANNELS, deliveryQueueNames, QUEUES } from './names.js';
import { isCluster, type RedisConnection } from './redis.js';

export type Channel = (typeof CHANNELS)[number];

export interface Queues {
  maintenance: Queue;
  /** Each channel's deliveries queues (DELIVERY_SHARDS of them), in shard order. */
  deliveries: Record<Channel, Queue[]>;
}

/** A queue on `connection`, its keys under its own hash tag. */
export function openQueue(connection: RedisConnection, queuePrefix: string, name: string): Queue {
  return new Queue(name, { connection, prefix: bullPrefix(queuePrefix, name) });
}

/** The app's queues on one shared connection (producers: they fail fast when Redis is away). */
export function createQueues(connection: RedisConnection, queuePrefix: string, deliveryShards = 1): Queues {
  const deliveries = Object.fromEntries(CHANNELS.map((c) => [c, deliveryQueueNames(c, deliveryShards).map((n) => openQueue(connection, queuePrefix, n))])) as Record<Channel, Queue[]>;
  return { maintenance: openQueue(connection, queuePrefix, QUEUES.maintenance), deliveries };
}

/** Every queue, the maintenance queue first, then each channel's shards. */
export function allQueues(queues: Queues): Queue[] {
  return [queues.maintenance, ...CHANNELS.flatMap((c) => queues.deliveries[c])];
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(allQueues(queues).map((q) => q.close()));
}

/** Every worker's metrics option: per-minute completed/failed counts kept in Redis by BullMQ, read by GET /metrics. */
export const workerMetrics = { maxDataPoints: MetricsTime.ONE_WEEK };

/** How long a worker's close may take before shutdown goes on without it (see closeWorker). */
export const WORKER_CLOSE_TIMEOUT_MS = 10_000;

/**
 * Closes a BullMQ worker, letting its active jobs finish, but gives up waiting after
 * `timeoutMs`: on a Redis Cluster a worker whose queue's master failed over was seen to
 * never finish its close (its blocking connection never reports its end), and a shutdown
 * must not hang on it. What it still holds goes when the connections are closed after it;
 * a job it was running is picked up again as stalled. On a single Redis it is waited for
 * as long as it takes, as before.
 */
export async function closeWorker(worker: Worker, log: Pick<Logger, 'warn'>, timeoutMs = WORKER_CLOSE_TIMEOUT_MS): Promise<void> {
  if (!isCluster(worker.opts.connection as RedisConnection)) return worker.close();
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    if ((await Promise.race([worker.close(), gaveUp])) === 'timeout') log.warn({ queue: worker.name, timeoutMs }, 'worker did not finish closing; going on without it');
  } finally {
    clearTimeout(timer);
  }
}
