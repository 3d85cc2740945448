/**
 * 10,000 booking requests from 100 learners over real HTTP while the web process is
 * SIGKILLed 4-8 s into each life and started again on the same port (a worker process
 * sweeps expired holds throughout). Clients retry what met no answer, a hold with the same
 * Idempotency-Key. Afterwards the booking invariants hold, every 2xx a client saw is in
 * the database, every 4xx left nothing, and each request cut off mid-flight was applied
 * fully or not at all.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { newSecretKey } from '../../src/config.js';
import { seededRandom } from '../../src/random.js';
import { useTestContext } from '../helpers/context.js';
import { stopProcess, type RunningProcess } from '../helpers/processes.js';
import { freePort } from '../../dev/redis-server.js';
import { assertNoSecretsInLogs, drillLogFiles, type Known } from '../helpers/log-scan.js';
import { checkLedger, learnerSecrets, longestSilenceMs, recoveryMs, runBookingLoad, seedBookingFixture, statusClasses, waitForExpiries } from './booking-load.js';
import { drillLogFile, printFigures, startDrillProcess } from './kit.js';

const DRILL = 'booking-web-killed';
const ctx = useTestContext();
const running = new Set<RunningProcess>();
// what the processes under test must never log, known once the drill has made it
const secrets: Known[] = [];
afterAll(async () => {
  await Promise.all([...running].map((p) => stopProcess(p, 10_000)));
  if (secrets.length) assertNoSecretsInLogs(drillLogFiles(DRILL), secrets);
});

const seconds = (ms: number) => +(ms / 1000).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe('the web process killed in the middle of bookings', () => {
  it('keeps every booking invariant; every 2xx is in the database, every 4xx left nothing', async () => {
    const begun = Date.now();
    for (const name of ['web', 'worker']) rmSync(drillLogFile(DRILL, name), { force: true });
    const seed = Number(process.env.DRILL_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed + 1);
    const fixture = await seedBookingFixture(ctx.pool, { learners: 100, practical: 80, theory: 40 });

    const port = await freePort();
    // one deployment's settings across restarts; hold limits above what 100 busy learners on one address reach
    const webEnv = { PORT: String(port), SECRET_KEY: newSecretKey(), HOLD_LIMIT_PER_MINUTE: '600', HOLD_LIMIT_PER_MINUTE_IP: '100000' };
    secrets.push(...learnerSecrets(fixture), { label: 'SECRET_KEY', value: webEnv.SECRET_KEY });
    const start = (name: 'web' | 'worker') => {
      const p = name === 'web' ? startDrillProcess(DRILL, 'web', 'workers/web.ts', ctx, webEnv) : startDrillProcess(DRILL, 'worker', 'workers/worker.ts', ctx, { HOLD_SWEEP_SECONDS: '1' });
      running.add(p);
      return p;
    };
    const worker = start('worker');
    let web = start('web');
    await Promise.all([web.waitForLog('web listening'), worker.waitForLog('worker started')]);

    // SIGKILL after 4-8 s of life, start again at once; any other exit is a crash
    const kills: { at: number; backAt: number }[] = [];
    const crashes: string[] = [];
    let loadDone = false;
    const watchForCrash = (p: RunningProcess, name: string) =>
      void p.exited.then((e) => {
        if (!(name === 'web' && e.signal === 'SIGKILL' && p.child.killed)) crashes.push(`${name} exited by itself: ${JSON.stringify(e)}`);
      });
    watchForCrash(worker, 'worker');
    watchForCrash(web, 'web');
    const killer = (async () => {
      while (!loadDone && crashes.length === 0) {
        const lifeEnds = Date.now() + 4000 + random() * 4000;
        while (!loadDone && Date.now() < lifeEnds) await new Promise((r) => setTimeout(r, 50));
        if (loadDone) return;
        const at = Date.now();
        web.child.kill('SIGKILL');
        await web.exited;
        running.delete(web);
        web = start('web');
        watchForCrash(web, 'web');
        await web.waitForLog('web listening', 60_000).catch((err: Error) => crashes.push(err.message));
        kills.push({ at, backAt: Date.now() });
      }
    })();

    const load = await runBookingLoad({
      baseUrl: `http://127.0.0.1:${port}`,
      fixture,
      ops: 10_000,
      clients: 100,
      seed,
      // figures rather than a timeout if the machine is too slow for all of them
      stopAt: begun + 200_000,
      expireHold: async (id) => (await ctx.pool.query(`UPDATE appointments SET expires_at = now() WHERE id = $1 AND status = 'HOLD'`, [id])).rowCount === 1,
    });
    loadDone = true;
    await killer;

    const unexpired = await waitForExpiries(ctx.pool, load.abandoned, 20_000);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    const check = await checkLedger(ctx.pool, load, fixture);

    const classes = statusClasses(load.statuses);
    const cutOff = load.ops.filter((op) => op.cutOff > 0);
    const byKind = (ops: typeof load.ops) => {
      const n: Record<string, number> = {};
      for (const op of ops) n[op.kind] = (n[op.kind] ?? 0) + 1;
      return Object.entries(n).map(([k, v]) => `${k} ${v}`).join(', ');
    };
    const recoveries = recoveryMs(load, kills);
    printFigures(DRILL, {
      'requests (ops done)': `${load.ops.length} from 100 learners (${byKind(load.ops)})`,
      tries: load.ops.reduce((n, op) => n + op.tries, 0),
      'answers 2xx / 4xx / 503 / other 5xx': `${classes['2xx']} / ${classes['4xx']} / ${classes['503']} / ${classes.otherServerErrors}`,
      'web SIGKILLs': kills.length,
      'connections refused (tries)': load.ops.reduce((n, op) => n + op.refused, 0),
      'cut off mid-flight (requests)': `${cutOff.length} (${byKind(cutOff)})`,
      'outcome unknown to the client: applied / not applied': `${check.uncertain.applied} / ${check.uncertain.notApplied}`,
      '4xx checked to have left nothing': check.refusalsChecked,
      'holds left to run out, still not expired': `${load.abandoned.size}, ${unexpired}`,
      'longest gap with no answer (s)': seconds(longestSilenceMs(load)),
      'kill to listening again, median / max (s)': `${seconds(median(kills.map((k) => k.backAt - k.at)))} / ${seconds(Math.max(...kills.map((k) => k.backAt - k.at)))}`,
      'time to recover (kill to first answer after), median / max (s)': `${seconds(median(recoveries))} / ${seconds(Math.max(...recoveries))}`,
      'invariant and ledger violations': check.violations.length,
      'load time / drill time (s)': `${seconds(load.endedAt - load.startedAt)} / ${seconds(Date.now() - begun)}`,
      seed: `${seed} (DRILL_SEED to replay the choices)`,
    });

    expect(load.ops.length, 'requests made before the drill ran out of time').toBe(10_000);
    expect(check.violations, `seed ${seed}`).toEqual([]);
    expect(classes.otherServerErrors, `seed ${seed}: ${JSON.stringify(load.statuses)}`).toBe(0);
    expect(crashes).toEqual([]);
    expect(check.gaveUp).toBe(0);
    expect(unexpired).toBe(0);
    expect(ready.status).toBe(200);
    // the drill did what it says: kills landed in the middle of requests
    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(cutOff.length).toBeGreaterThan(0);
  });
});
