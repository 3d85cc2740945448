/**
 * Queue names and their key prefixes. Every queue has a Redis Cluster hash tag of its own
 * (`{QUEUE_PREFIX:queue}`): BullMQ's multi-key Lua scripts need all keys of one queue in one
 * slot, and queues with different tags spread over a cluster's shards.
 */
export const QUEUES = {
  /** Scheduled upkeep: hold expiry, release polling, pending-alert sweep, feed polls. */
  maintenance: 'maintenance',
} as const;

export const CHANNELS = ['email', 'push'] as const;

/**
 * The deliveries queues of a channel: one job per alert (jobId = alert id) or digest,
 * handed over by matching, each queue with its own BullMQ rate limiter. With one shard
 * the queue is `deliveries-<channel>`; with DELIVERY_SHARDS = n > 1 they are
 * `deliveries-<channel>-0` .. `deliveries-<channel>-<n-1>`.
 */
export function deliveryQueueNames(channel: (typeof CHANNELS)[number], shards: number): string[] {
  const base = `deliveries-${channel}`;
  return shards <= 1 ? [base] : Array.from({ length: shards }, (_, i) => `${base}-${i}`);
}

/** BullMQ `prefix` of one queue for a QUEUE_PREFIX value: the queue's own hash tag. */
export function bullPrefix(queuePrefix: string, queue: string): string {
  return `{${queuePrefix}:${queue}}`;
}

/**
 * Which of `shards` a job goes to: FNV-1a of its key, so every process (matching, the
 * sweep, a sender handing an alert to another channel) picks the same queue for the same
 * job, and a second hand-off finds the first job under its id.
 */
export function shardIndex(key: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
