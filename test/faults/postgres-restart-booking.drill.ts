/**
 * PostgreSQL stopped for six seconds (a fast shutdown: every connection cut) and started
 * again in the middle of booking load, with a web and a worker process on a server of the
 * drill's own. Meanwhile /readyz answers 503 and requests 4xx or 503, never 500, and
 * neither process exits; afterwards both work again without a restart (the worker's sweep
 * and poller run, /readyz is 200), no booking is half-written, every 2xx a client saw is in
 * the database and every 4xx left nothing.
 */
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { lastHeartbeat } from '../../src/queues/heartbeat.js';
import { useTestContext } from '../helpers/context.js';
import { startOwnPostgres, type OwnPostgres } from '../helpers/postgres-server.js';
import { stopProcess, type RunningProcess } from '../helpers/processes.js';
import { freePort } from '../../dev/redis-server.js';
import { withDatabase } from '../helpers/services.js';
import { assertNoSecretsInLogs, drillLogFiles, type Known } from '../helpers/log-scan.js';
import { checkLedger, learnerSecrets, longestSilenceMs, recoveryMs, runBookingLoad, seedBookingFixture, statusClasses, waitForExpiries } from './booking-load.js';
import { drillLogFile, printFigures, startDrillProcess } from './kit.js';

const DRILL = 'postgres-restart-booking';
const DOWN_MS = 6000;
const ctx = useTestContext();
const running: RunningProcess[] = [];
let server: OwnPostgres | undefined;
let pool: pg.Pool | undefined;
// what the processes under test must never log, known once the drill has made it
const secrets: Known[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p, 10_000)));
  await pool?.end();
  await server?.close();
  if (secrets.length) assertNoSecretsInLogs(drillLogFiles(DRILL), secrets);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => +(ms / 1000).toFixed(2);

describe('PostgreSQL restarted during booking load', () => {
  it('answers 503, never 500; both processes recover without a restart; no half-written booking', async () => {
    const begun = Date.now();
    for (const name of ['web', 'worker']) rmSync(drillLogFile(DRILL, name), { force: true });
    const seed = Number(process.env.DRILL_SEED ?? Date.now() % 1_000_000);

    server = await startOwnPostgres();
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE slotwatch');
    await admin.end();
    const databaseUrl = withDatabase(server.adminUrl, 'slotwatch');
    await migrate({ databaseUrl, direction: 'up' });
    pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
    // the drill's idle connections die with the server, as it means them to; the pool makes new ones
    pool.on('error', () => {});
    const fixture = await seedBookingFixture(pool, { learners: 50, practical: 40, theory: 20 });
    secrets.push(...learnerSecrets(fixture));

    const port = await freePort();
    const on = { ...ctx, databaseUrl };
    // the poller polls every second, so /readyz says so within five if it stays stuck after the outage
    const common = { RELEASE_POLL_SECONDS: '1', HOLD_SWEEP_SECONDS: '1' };
    const worker = startDrillProcess(DRILL, 'worker', 'workers/worker.ts', on, common);
    const web = startDrillProcess(DRILL, 'web', 'workers/web.ts', on, { ...common, PORT: String(port), HOLD_LIMIT_PER_MINUTE: '600', HOLD_LIMIT_PER_MINUTE_IP: '100000' });
    running.push(worker, web);
    const exits: string[] = [];
    for (const [name, p] of [['web', web], ['worker', worker]] as const) void p.exited.then((e) => exits.push(`${name} exited: ${JSON.stringify(e)}`));
    await Promise.all([web.waitForLog('web listening'), worker.waitForLog('worker started')]);
    const baseUrl = `http://127.0.0.1:${port}`;

    let downAt = 0;
    let upAt = 0;
    // readiness, as a load balancer asks it, through the whole drill; and the first run of
    // the worker's sweep and poller after PostgreSQL is back (each run records a heartbeat)
    const readiness: { at: number; status: number }[] = [];
    const workerBack: { sweep?: number; poll?: number } = {};
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        readiness.push({ at: Date.now(), status: res?.status ?? 0 });
        await res?.body?.cancel();
        if (upAt) {
          const [swept, polled] = await Promise.all(['expire-holds', 'poll-releases'].map((task) => lastHeartbeat(ctx.redis, ctx.redisPrefix, task)));
          if (swept && swept > upAt) workerBack.sweep ??= swept;
          if (polled && polled > upAt) workerBack.poll ??= polled;
        }
        await sleep(200);
      }
    })();

    const outage = (async () => {
      await sleep(5000);
      downAt = Date.now();
      await server!.stop();
      await sleep(DOWN_MS);
      await server!.start();
      upAt = Date.now();
    })();
    const load = await runBookingLoad({
      baseUrl,
      fixture,
      ops: 2500,
      clients: 50,
      seed,
      stopAt: begun + 150_000,
      expireHold: async (id) =>
        (await pool!.query(`UPDATE appointments SET expires_at = now() WHERE id = $1 AND status = 'HOLD'`, [id]).catch(() => ({ rowCount: 0 }))).rowCount === 1,
    });
    await outage;

    const unexpired = await waitForExpiries(pool, load.abandoned, 20_000);
    // ready again: PostgreSQL answers and the worker's poller has polled since
    while (readiness.at(-1)?.status !== 200 && Date.now() < upAt + 30_000) await sleep(200);
    polling = false;
    await poller;
    const check = await checkLedger(pool, load, fixture);

    const classes = statusClasses(load.statuses);
    const during = readiness.filter((r) => r.at > downAt && r.at < upAt);
    const readyAgain = readiness.find((r) => r.at > upAt && r.status === 200);
    const firstBookingAnswer = recoveryMs(load, [{ at: upAt, backAt: upAt }])[0]!;
    printFigures(DRILL, {
      'requests (ops done)': `${load.ops.length} from 50 learners`,
      tries: load.ops.reduce((n, op) => n + op.tries, 0),
      'answers 2xx / 4xx / 503 / other 5xx': `${classes['2xx']} / ${classes['4xx']} / ${classes['503']} / ${classes.otherServerErrors}`,
      'PostgreSQL down (s)': seconds(upAt - downAt),
      '/readyz while down: 503 / other': `${during.filter((r) => r.status === 503).length} / ${during.filter((r) => r.status !== 503).length}`,
      'cut off mid-flight (requests)': load.ops.filter((op) => op.cutOff > 0).length,
      'outcome unknown to the client: applied / not applied': `${check.uncertain.applied} / ${check.uncertain.notApplied}`,
      '4xx checked to have left nothing': check.refusalsChecked,
      'longest gap with no answer (s)': seconds(longestSilenceMs(load)),
      'time to recover: PostgreSQL up to /readyz 200 / to the next 2xx or 4xx (s)': `${readyAgain ? seconds(readyAgain.at - upAt) : 'never'} / ${seconds(firstBookingAnswer)}`,
      'worker back: first sweep / poll after PostgreSQL up (s)': `${workerBack.sweep ? seconds(workerBack.sweep - upAt) : 'never'} / ${workerBack.poll ? seconds(workerBack.poll - upAt) : 'never'}`,
      'holds left to run out, still not expired': `${load.abandoned.size}, ${unexpired}`,
      'invariant and ledger violations': check.violations.length,
      'load time / drill time (s)': `${seconds(load.endedAt - load.startedAt)} / ${seconds(Date.now() - begun)}`,
      seed: `${seed} (DRILL_SEED to replay the choices)`,
    });

    expect(exits).toEqual([]);
    expect(classes.otherServerErrors, JSON.stringify(load.statuses)).toBe(0);
    expect(readiness.filter((r) => r.status >= 500 && r.status !== 503)).toEqual([]);
    expect(during.some((r) => r.status === 503)).toBe(true);
    expect(classes['503']).toBeGreaterThan(0);
    expect(readyAgain).toBeDefined();
    expect(workerBack.sweep).toBeDefined();
    expect(workerBack.poll).toBeDefined();
    expect(check.violations, `seed ${seed}`).toEqual([]);
    expect(check.gaveUp).toBe(0);
    expect(unexpired).toBe(0);
    expect(load.ops.length, 'requests made before the drill ran out of time').toBe(2500);
    // the load went on after the outage, not only before it
    expect(load.answeredAt.at(-1)).toBeGreaterThan(upAt);
  });
});
