import type { RedisConnection } from './redis.js';
import { bullPrefix, QUEUES } from './names.js';

// beside the maintenance queue's keys, inside its {hash tag}: the tasks run on that queue
const key = (queuePrefix: string, task: string) => `${bullPrefix(queuePrefix, QUEUES.maintenance)}:heartbeat:${task}`;

/** Notes that `task` just completed a run (any worker process). Kept a day, refreshed by every run. */
export async function recordHeartbeat(redis: RedisConnection, queuePrefix: string, task: string, at = Date.now()): Promise<void> {
  await redis.set(key(queuePrefix, task), String(at), 'EX', 86_400);
}

/** When `task` last completed a run in any worker process, or null if not within a day. */
export async function lastHeartbeat(redis: RedisConnection, queuePrefix: string, task: string): Promise<number | null> {
  const value = await redis.get(key(queuePrefix, task));
  return value === null ? null : Number(value);
}
