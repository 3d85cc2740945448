import type { Queue } from 'bullmq';
import type { Config } from '../../config.js';
import { CHANNELS, deliveryQueueNames, QUEUES } from '../../queues/names.js';
import { closeQueues, createQueues, type Queues } from '../../queues/queues.js';
import { createRedis } from '../../queues/redis.js';
import { findQueue, JOB_STATES, queueStatus, recentFailures, retryFailed } from '../../queues/inspect.js';
import { UsageError, type Command } from '../command.js';

async function withQueues<T>(config: Config, fn: (queues: Queues) => Promise<T>): Promise<T> {
  // a terminal command should fail fast, not wait for Redis to come back
  const redis = createRedis(config.REDIS_URL, 'producer', { enableOfflineQueue: true, connectTimeout: 5000 });
  const queues = createQueues(redis, config.QUEUE_PREFIX, config.DELIVERY_SHARDS);
  try {
    return await fn(queues);
  } finally {
    await closeQueues(queues);
    redis.disconnect();
  }
}

/** Every queue of this deployment: the maintenance queue and each channel's DELIVERY_SHARDS queues. */
function queueNames(config: Config): string[] {
  return [QUEUES.maintenance, ...CHANNELS.flatMap((c) => deliveryQueueNames(c, config.DELIVERY_SHARDS))];
}

function queueArg(args: string[], config: Config): string {
  const names = queueNames(config);
  const name = args[0];
  if (!name) throw new UsageError(`name a queue (${names.join(', ')})`);
  if (!(names as string[]).includes(name)) throw new UsageError(`no queue named "${name}" (queues: ${names.join(', ')})`);
  return name;
}

/** "3m 20s" style, for ages on a terminal. */
export function formatAge(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export const queuesStatus: Command = {
  name: 'queues:status',
  async run(_args, config) {
    const statuses = await withQueues(config, (q) => Promise.all(queueNames(config).map((n) => queueStatus(findQueue(q, n)!))));
    const header = ['queue', ...JOB_STATES, 'oldest waiting'];
    const rows = statuses.map((s) => [s.name + (s.paused ? ' (paused)' : ''), ...JOB_STATES.map((st) => String(s.counts[st])), formatAge(s.oldestWaitingMs)]);
    console.log(table(header, rows));
  },
};

export const queuesFailed: Command = {
  name: 'queues:failed',
  usage: '<queue> [--limit N]',
  async run(args, config) {
    const name = queueArg(args, config);
    const limitAt = args.indexOf('--limit');
    const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
    const failures = await withQueues(config, (q) => recentFailures(findQueue(q, name)!, limit));
    if (!failures.length) {
      console.log(`${name}: no failed jobs`);
      return;
    }
    console.log(
      table(
        ['job', 'name', 'attempts', 'failed at', 'reason'],
        failures.map((f) => [f.id ?? '?', f.name, String(f.attemptsMade), f.finishedOn ? new Date(f.finishedOn).toISOString() : '-', f.failedReason.split('\n')[0]!.slice(0, 120)]),
      ),
    );
  },
};

/** A command that does one thing to one named queue and says what it did. */
function queueCommand(name: string, act: (queue: Queue) => Promise<string>): Command {
  return {
    name,
    usage: '<queue>',
    async run(args, config) {
      const queue = queueArg(args, config);
      console.log(`${queue}: ${await withQueues(config, (q) => act(findQueue(q, queue)!))}`);
    },
  };
}

export const queuesRetry = queueCommand('queues:retry', async (q) => `${await retryFailed(q)} failed job(s) moved back to waiting`);
export const queuesPause = queueCommand('queues:pause', async (q) => (await q.pause(), 'paused'));
export const queuesResume = queueCommand('queues:resume', async (q) => (await q.resume(), 'resumed'));
