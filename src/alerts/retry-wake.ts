/**
 * Retries waiting on a receiver that was down, woken together once it accepts again.
 *
 * Each refused send waits out its own backoff (doubling, jittered). After an outage of
 * half a minute the last of those backoffs end up to half a minute after the receiver is
 * back, and learners are told in the order their backoffs happen to end, not by tier. So a
 * send refused by a receiver as a whole (SMTP not answering or 421; a push service
 * unreachable, or 5xx without Retry-After) notes its job under that receiver, in Redis so
 * that every worker process sees it; the first send the receiver accepts again promotes
 * every job noted there from delayed to waiting, where the queue takes them by priority
 * and within its rate limit. A refusal of one message alone (a greylisted address, a 429,
 * anything with Retry-After) is not noted: its own backoff stands.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { ChannelQueues } from './deliveries.js';
import type { RedisConnection } from '../queues/redis.js';
import type { Channel } from './store.js';

/** The receiver name of the SMTP server (a deployment has one); push services are named by their endpoint's origin. */
export const SMTP_RECEIVER = 'smtp';

/** A noted set outlives no outage worth waking for: the backoff of its jobs has ended by then. */
const NOTE_TTL_SECONDS = 24 * 3600;
/** Accepted sends wake a receiver's retries at most this often per process (each wake is a Redis round trip). */
const WAKE_EVERY_MS = 1000;
const WAKE_BATCH = 500;

export interface RetryWaker {
  /** Notes a delayed job (on the queue named `queueName`, one of the channel's shards) as waiting on `receivers`. */
  refused(channel: Channel, receivers: string[], jobId: string, queueName: string): Promise<void>;
  /** A send `receivers` accepted: wakes the jobs waiting on them, in the background. */
  accepted(channel: Channel, receivers: string[]): void;
}

function noteKey(queue: Queue, receiver: string): string {
  return queue.toKey(`waiting-on:${receiver}`);
}

/** Promotes every delayed job noted under `receiver`; returns how many. */
async function wake(redis: RedisConnection, queue: Queue, receiver: string): Promise<number> {
  let woken = 0;
  for (;;) {
    const ids = await redis.spop(noteKey(queue, receiver), WAKE_BATCH);
    if (!ids.length) return woken;
    for (const id of ids) {
      const job = await queue.getJob(id);
      // a job no longer delayed (running, done, or delayed again for a reason of its own) is left alone
      if (job && (await job.isDelayed())) woken += await job.promote().then(() => 1, () => 0);
    }
  }
}

/** The waker for `queues`, noting on `redis` (the process's worker connection). */
export function retryWaker(queues: ChannelQueues, redis: RedisConnection, log: Logger): RetryWaker {
  const lastWake = new Map<string, number>();
  return {
    async refused(channel, receivers, jobId, queueName) {
      // noted beside the job's own queue, inside its hash tag
      const queue = queues[channel].find((q) => q.name === queueName) ?? queues[channel][0]!;
      for (const r of receivers) await redis.multi().sadd(noteKey(queue, r), jobId).expire(noteKey(queue, r), NOTE_TTL_SECONDS).exec();
    },
    accepted(channel, receivers) {
      for (const r of receivers) {
        const key = `${channel} ${r}`;
        if (Date.now() - (lastWake.get(key) ?? 0) < WAKE_EVERY_MS) continue;
        lastWake.set(key, Date.now());
        Promise.all(queues[channel].map((q) => wake(redis, q, r)))
          .then((counts) => counts.reduce((a, b) => a + b, 0))
          .then((n) => {
            if (n) log.info({ channel, woken: n }, 'a receiver accepts again: woke the retries waiting on it');
          })
          .catch((err: unknown) => log.warn({ err, channel }, 'could not wake the retries waiting on a receiver'));
      }
    },
  };
}
