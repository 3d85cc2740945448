/** Several worker processes side by side: one schedule per scheduler, and a clean stop on SIGTERM. */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { bullPrefix, QUEUES } from '../../src/queues/names.js';
import { defaults } from '../../src/settings/settings.js';
import { maintenanceTasks } from '../../src/jobs/tasks.js';
import { useTestContext } from '../helpers/context.js';
import { startProcess, stopProcess, type RunningProcess } from '../helpers/processes.js';

const ctx = useTestContext();
let maintenance: Queue;

beforeAll(() => {
  maintenance = new Queue(QUEUES.maintenance, { connection: ctx.redis, prefix: bullPrefix(ctx.redisPrefix, QUEUES.maintenance) });
});
afterAll(async () => {
  await maintenance.close();
});

describe('worker processes', () => {
  it('three started together keep exactly one schedule per scheduler, then stop within 25 s of SIGTERM', async () => {
    const workers: RunningProcess[] = [0, 1, 2].map(() => startProcess('workers/worker.ts', ctx));
    try {
      await Promise.all(workers.map((w) => w.waitForLog('worker started')));
      const schedulers = await maintenance.getJobSchedulers(0, -1, true);
      const names = maintenanceTasks.map((t) => t.name).sort();
      expect(names.length).toBeGreaterThan(0);
      expect(schedulers.map((s) => s.key).sort()).toEqual(names);
      const config = loadConfig({});
      for (const task of maintenanceTasks) {
        expect(schedulers.find((s) => s.key === task.name)?.every).toBe(task.everyMs(config, defaults(config)));
      }
      // each scheduler has one next run waiting, not one per process
      const delayed = await maintenance.getJobs(['delayed', 'waiting', 'prioritized'], 0, -1);
      const perScheduler = new Map<string, number>();
      for (const j of delayed) if (j.repeatJobKey) perScheduler.set(j.repeatJobKey, (perScheduler.get(j.repeatJobKey) ?? 0) + 1);
      for (const [, n] of perScheduler) expect(n).toBeLessThanOrEqual(1);
    } finally {
      const stops = await Promise.all(workers.map((w) => stopProcess(w)));
      for (const s of stops) {
        expect(s).toMatchObject({ code: 0, signal: null });
        expect(s.ms).toBeLessThan(25_000); // the PaaS kills at 30 s; this is the contract, not a speed claim
      }
      for (const w of workers) expect(w.logs.some((l) => l.msg === 'worker stopped')).toBe(true);
    }
  });
});
