/**
 * Redis restarted in the middle of sending, twice: once with persistence (AOF, fsynced
 * every second) stopped as an operator's restart stops it (SIGTERM: Redis writes its AOF
 * out and exits), and once without persistence (SIGKILL, as this machine's Redis runs:
 * every key, job and schedule gone). Two workers and a web process stay up throughout:
 * they reconnect, the schedules are back within one recheck (5 s), /readyz answers 200
 * again, what the empty Redis lost is queued again from PostgreSQL, and every learner is
 * told, none twice.
 */
import { Queue } from 'bullmq';
import { beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver } from '../../dev/smtp-receiver.js';
import { maintenanceTasks } from '../../src/jobs/tasks.js';
import { bullPrefix, QUEUES } from '../../src/queues/names.js';
import { createRedis } from '../../src/queues/redis.js';
import { useTestContext } from '../helpers/context.js';
import { stopProcess } from '../helpers/processes.js';
import { freePort, startOwnRedis } from '../../dev/redis-server.js';
import { placeLearners, printFigures, releaseOnePerCentre, startDrillProcess, tallyEmails, waitUntilSettled, waitUntilTold, type DrillLearner } from './kit.js';
import { assertDrillLogsClean } from '../helpers/log-scan.js';

const ctx = useTestContext();
const CENTRES = 40;
const PER_CENTRE = 25;
// slow enough that each restart lands in the middle of its 500 messages
const PER_SECOND = 50;
let placed: Awaited<ReturnType<typeof placeLearners>>;

beforeAll(async () => {
  placed = await placeLearners(ctx.pool, { centres: CENTRES, perCentre: PER_CENTRE, tag: 'redisrestart' });
  // each learner's one alert is its own message, as the kit expects
  await ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ('alert_digest_seconds', '0') ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => +(ms / 1000).toFixed(2);

async function pollUntil(what: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await what().catch(() => false))) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
  return Date.now() - started;
}

/** One round: half of the centres released, Redis restarted once a fifth of their learners were told. */
async function round(name: string, half: 0 | 1, persistent: boolean) {
  const centreIds = placed.centreIds.slice(half * (CENTRES / 2), (half + 1) * (CENTRES / 2));
  const learners: DrillLearner[] = placed.learners.filter((l) => centreIds.includes(l.centreId));
  // a receiver of the round's own, so its gaps and tallies are the round's alone
  const smtp = await startSmtpReceiver({ parse: 'later' });
  const redis = await startOwnRedis({ appendonly: persistent });
  const port = await freePort();
  const env = { REDIS_URL: redis.url, SMTP_URL: smtp.url, DELIVERY_EMAIL_PER_SECOND: String(PER_SECOND), PORT: String(port) };
  const processes = [
    startDrillProcess(name, 'worker-1', 'workers/worker.ts', ctx, env),
    startDrillProcess(name, 'worker-2', 'workers/worker.ts', ctx, env),
    startDrillProcess(name, 'web', 'workers/web.ts', ctx, env),
  ];
  const probe = createRedis(redis.url, 'worker');
  const maintenance = new Queue(QUEUES.maintenance, { connection: probe, prefix: bullPrefix(ctx.redisPrefix, QUEUES.maintenance) });
  const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  const schedulesBack = async () => (await maintenance.getJobSchedulers()).length === maintenanceTasks.length;
  try {
    await Promise.all(processes.slice(0, 2).map((p) => p.waitForLog('worker started', 90_000)));
    await processes[2]!.waitForLog('web listening', 90_000);
    await pollUntil(ready, 30_000);

    const started = Date.now();
    await releaseOnePerCentre(ctx.pool, centreIds);
    await pollUntil(async () => smtp.arrivals.length >= learners.length / 5, 30_000);
    const toldAtRestart = tallyEmails(smtp, learners).told;

    if (persistent) await redis.shutdown();
    else await redis.stop();
    await sleep(1000);
    const readyWhileDown = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, (err: Error) => err.message);
    await sleep(1000);
    await redis.start();
    const restarted = Date.now();
    const keysAfterRestart = await probe.dbsize();

    const [schedulesMs, readyMs] = await Promise.all([pollUntil(schedulesBack, 30_000), pollUntil(ready, 60_000)]);
    const tally = await waitUntilTold(smtp, learners, 120_000);
    const recoverMs = Date.now() - restarted;
    const totalMs = Date.now() - started;
    await waitUntilSettled(ctx.pool, 60_000);
    const final = tallyEmails(smtp, learners);
    printFigures(name, {
      'redis restart': persistent ? 'AOF (appendfsync everysec), SIGTERM' : 'no persistence, SIGKILL',
      'keys after the restart': keysAfterRestart,
      'messages due': final.due,
      'told before the restart': toldAtRestart,
      told: final.told,
      duplicated: final.duplicates,
      '/readyz while Redis was down': readyWhileDown,
      'schedules back after (s)': seconds(schedulesMs),
      '/readyz 200 again after (s)': seconds(readyMs),
      'all told after the restart (s)': seconds(recoverMs),
      'all told after the release (s)': seconds(totalMs),
      'longest gap (s)': final.longestGapSeconds,
    });
    // no address, token or key of the drill's learners in what its processes logged
    await assertDrillLogsClean(name, ctx.pool);
    expect(toldAtRestart).toBeLessThan(learners.length); // the restart really was mid-run
    if (persistent) expect(keysAfterRestart).toBeGreaterThan(0);
    // empty but for what the processes wrote in the moment since (hundreds survive an AOF restart)
    else expect(keysAfterRestart).toBeLessThan(10);
    expect(tally.missing).toEqual([]);
    expect(final.duplicates).toBe(0);
    expect(readyWhileDown).toBe(503);
    expect(schedulesMs).toBeLessThan(6000); // one recheck
    for (const p of processes) expect(p.child.exitCode).toBeNull(); // no process died of it
  } finally {
    await maintenance.close();
    probe.disconnect();
    await Promise.all(processes.map((p) => stopProcess(p)));
    await redis.dispose();
    await smtp.close();
  }
}

describe('Redis restarted during a run', () => {
  it('with persistence (AOF): workers and web reconnect, every learner told once', async () => {
    await round('redis-restart-aof', 0, true);
  });
  it('without persistence: schedules back within one recheck, lost jobs rebuilt from PostgreSQL, every learner told once', async () => {
    await round('redis-restart-empty', 1, false);
  });
});
