/**
 * Queue names and the key prefix every BullMQ queue shares. The prefix is wrapped in a
 * Redis Cluster hash tag (`{slotwatch}`) so all of one deployment's queue keys land in one
 * slot, which BullMQ's multi-key Lua scripts need.
 */
export const QUEUES = {
  /** Scheduled upkeep: hold expiry, release polling, pending-alert sweep, feed polls. */
  maintenance: 'maintenance',
  /**
   * The deliveries queues, one per channel: one job per alert (jobId = alert id), handed
   * over by matching. Each has its own BullMQ rate limiter capping sends per second.
   */
  deliveriesEmail: 'deliveries-email',
  deliveriesPush: 'deliveries-push',
} as const;

/** BullMQ `prefix` for a QUEUE_PREFIX value. */
export function bullPrefix(queuePrefix: string): string {
  return `{${queuePrefix}}`;
}
