import { MetricsTime, Queue } from 'bullmq';
import { bullPrefix, CHANNELS, deliveryQueueNames, QUEUES } from './names.js';
import type { RedisConnection } from './redis.js';

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
