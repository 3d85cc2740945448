/**
 * Queue names and the key prefix every BullMQ queue shares. The prefix is wrapped in a
 * Redis Cluster hash tag (`{slotwatch}`) so all of one deployment's queue keys land in one
 * slot, which BullMQ's multi-key Lua scripts need.
 */
export const QUEUES = {
  /** Scheduled upkeep: hold expiry, release polling, pending-alert sweep, feed polls. */
  maintenance: 'maintenance',
  /** One job per alert to deliver (jobId = alert id): re-checked, then routed to a channel. */
  deliveries: 'deliveries',
  /** The email sender's queue; its own BullMQ rate limiter caps sends per second. */
  deliveriesEmail: 'deliveries-email',
  /** The web push sender's queue, rate-limited the same way. */
  deliveriesPush: 'deliveries-push',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** BullMQ `prefix` for a QUEUE_PREFIX value. */
export function bullPrefix(queuePrefix: string): string {
  return `{${queuePrefix}}`;
}
