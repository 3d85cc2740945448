/** The queue CLI against real BullMQ queues: status, failures, retry, pause and resume. */
import { Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullPrefix } from '../../src/queues/names.js';
import { useTestContext } from '../helpers/context.js';
import { runCli } from '../helpers/cli.js';

const ctx = useTestContext();

const cli = (...args: string[]) => runCli(args, { REDIS_URL: ctx.redisUrl, QUEUE_PREFIX: ctx.redisPrefix, DATABASE_URL: ctx.databaseUrl }, { timeoutMs: 30_000 });

/** The counts row of one queue in `queues:status` output, keyed by column. */
function statusRow(output: string, queue: string): Record<string, string> {
  const [header, ...rows] = output.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  const row = rows.find((r) => r[0] === queue || r[0] === `${queue} (paused)`)!;
  return Object.fromEntries(header!.map((h, i) => [h, row[i]!]));
}

let queue: Queue;
beforeAll(async () => {
  const prefix = bullPrefix(ctx.redisPrefix, 'deliveries-email');
  queue = new Queue('deliveries-email', { connection: ctx.redis, prefix });
  const events = new QueueEvents('deliveries-email', { connection: ctx.redis.duplicate(), prefix });
  await events.waitUntilReady();
  const worker = new Worker(
    'deliveries-email',
    async (job) => {
      if (job.data.alertId === 'a-bad') throw new UnrecoverableError('mailbox does not exist');
    },
    { connection: ctx.redis.duplicate({ maxRetriesPerRequest: null }), prefix },
  );
  const jobs = await queue.addBulk(['a-1', 'a-2', 'a-bad'].map((id) => ({ name: 'send', data: { alertId: id }, opts: { jobId: id } })));
  await Promise.all(jobs.map((j) => j.waitUntilFinished(events).catch(() => undefined)));
  await worker.close();
  await events.close();
  await queue.add('send', { alertId: 'a-3' }, { jobId: 'a-3' }); // waits: no worker now
});

afterAll(async () => {
  await queue.close();
});

describe('queue CLI', () => {
  it('queues:status shows counts per state and the oldest waiting age', async () => {
    const { code, stdout } = await cli('queues:status');
    expect(code).toBe(0);
    const row = statusRow(stdout, 'deliveries-email');
    expect(row).toMatchObject({ waiting: '1', failed: '1', completed: '2', active: '0' });
    expect(row['oldest waiting']).toMatch(/^\d+s$/);
    expect(statusRow(stdout, 'maintenance')).toMatchObject({ waiting: '0', 'oldest waiting': '-' });
  });

  it('queues:failed lists the failure with its reason', async () => {
    const { code, stdout } = await cli('queues:failed', 'deliveries-email');
    expect(code).toBe(0);
    expect(stdout).toContain('a-bad');
    expect(stdout).toContain('mailbox does not exist');
    expect(stdout).not.toContain('a-1');
  });

  it('queues:retry moves failed jobs back to waiting', async () => {
    const { stdout } = await cli('queues:retry', 'deliveries-email');
    expect(stdout).toContain('deliveries-email: 1 failed job(s) moved back to waiting');
    expect(await queue.getFailedCount()).toBe(0);
    expect(await queue.getWaitingCount()).toBe(2);
  });

  it('queues:pause and queues:resume', async () => {
    expect((await cli('queues:pause', 'deliveries-email')).stdout).toContain('deliveries-email: paused');
    expect(await queue.isPaused()).toBe(true);
    expect(statusRow((await cli('queues:status')).stdout, 'deliveries-email').queue).toBe('deliveries-email (paused)');
    expect((await cli('queues:resume', 'deliveries-email')).stdout).toContain('deliveries-email: resumed');
    expect(await queue.isPaused()).toBe(false);
  });

  it('refuses an unknown queue or a missing name with a usage line and exit code 2', async () => {
    const unknown = await cli('queues:pause', 'emails');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no queue named "emails" (queues: maintenance, deliveries-email, deliveries-push)');
    const missing = await cli('queues:failed');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('usage: npm run cli -- queues:failed');
    expect(await queue.isPaused()).toBe(false);
  });
});
