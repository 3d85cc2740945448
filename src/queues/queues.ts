import { MetricsTime, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullPrefix, QUEUES } from './names.js';

export type Queues = Record<keyof typeof QUEUES, Queue>;

/** The app's queues on one shared connection (producers: they fail fast when Redis is away). */
export function createQueues(connection: Redis, queuePrefix: string): Queues {
  const prefix = bullPrefix(queuePrefix);
  return Object.fromEntries(Object.entries(QUEUES).map(([key, name]) => [key, new Queue(name, { connection, prefix })])) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q: Queue) => q.close()));
}

/** Every worker's metrics option: per-minute completed/failed counts kept in Redis by BullMQ, read by GET /metrics. */
export const workerMetrics = { maxDataPoints: MetricsTime.ONE_WEEK };
