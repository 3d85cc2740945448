import type { Queue } from 'bullmq';
import { allQueues, type Queues } from './queues.js';

export const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'paused', 'waiting-children'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface QueueStatus {
  name: string;
  paused: boolean;
  counts: Record<JobState, number>;
  /** Age in ms of the oldest job waiting to run (waiting or prioritized), or null when none waits. */
  oldestWaitingMs: number | null;
}

/** Looks a queue up by its name, or returns undefined. */
export function findQueue(queues: Queues, name: string): Queue | undefined {
  return allQueues(queues).find((q) => q.name === name);
}

/** Counts per state, paused flag and oldest waiting age for one queue. */
export async function queueStatus(queue: Queue, now = Date.now()): Promise<QueueStatus> {
  const [counts, paused, waiting] = await Promise.all([
    queue.getJobCounts(...JOB_STATES),
    queue.isPaused(),
    // the oldest plain-waiting job is at the tail of the list; prioritized jobs are ordered by
    // priority, not age, so the first 1,000 of them are looked at (an approximation past that)
    Promise.all([queue.getJobs(['waiting', 'paused'], 0, 0, true), queue.getJobs(['prioritized'], 0, 999, true)]),
  ]);
  const timestamps = waiting.flat().map((j) => j.timestamp);
  return {
    name: queue.name,
    paused,
    counts: Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobState, number>,
    oldestWaitingMs: timestamps.length ? Math.max(0, now - Math.min(...timestamps)) : null,
  };
}

export interface FailedJob {
  id: string | undefined;
  name: string;
  failedReason: string;
  attemptsMade: number;
  finishedOn: number | undefined;
}

/** The most recent failures of a queue, newest first. Job data is left out: it holds ids only, but the CLI needs none of it. */
export async function recentFailures(queue: Queue, limit = 20): Promise<FailedJob[]> {
  const jobs = await queue.getJobs(['failed'], 0, limit - 1, false);
  return jobs.map((j) => ({ id: j.id, name: j.name, failedReason: j.failedReason, attemptsMade: j.attemptsMade, finishedOn: j.finishedOn }));
}

/** Moves every failed job of a queue back to waiting; returns how many there were. */
export async function retryFailed(queue: Queue): Promise<number> {
  const failed = await queue.getFailedCount();
  if (failed > 0) await queue.retryJobs({ state: 'failed', count: 1000 });
  return failed;
}
