/**
 * Worker processes SIGKILLed every few seconds while 5,000 messages are being sent, each
 * replaced at once as a PaaS replaces a dead process. Every learner is told; a learner is
 * told twice only when a killed sender's message had been accepted by the SMTP server but
 * not yet marked SENT (its claim is retaken when the lease runs out, and sent again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { loadConfig } from '../../src/config.js';
import { useTestContext } from '../helpers/context.js';
import { stopProcess, type RunningProcess } from '../helpers/processes.js';
import { acceptedNotMarkedSent, placeLearners, printFigures, releaseOnePerCentre, startDrillProcess, tallyEmails, waitUntilSettled, waitUntilTold } from './kit.js';
import { assertDrillLogsClean } from '../helpers/log-scan.js';

const DRILL = 'workers-killed';
const ctx = useTestContext();
const WORKERS = 3;
const KILL_EVERY_MS = 3000;
// each kill strands up to DELIVERY_CONCURRENCY claims until their lease (60 s at the least)
// runs out, so the drill's length is the last kill plus a lease: kill early, not for long
const KILLS = 5;
let smtp: SmtpReceiver;
const processes: RunningProcess[] = [];

beforeAll(async () => {
  smtp = await startSmtpReceiver({ parse: 'later' });
});
afterAll(async () => {
  await Promise.all(processes.map((p) => stopProcess(p)));
  await smtp.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worker processes SIGKILLed while 5,000 messages are sent', () => {
  it('tells every learner; only sends cut off mid-flight are duplicated', async () => {
    const { centreIds, learners } = await placeLearners(ctx.pool, { centres: 50, perCentre: 100, tag: 'killed' });
    // each learner's one alert is its own message, as the kit expects
    await ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ('alert_digest_seconds', '0') ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    const env = { SMTP_URL: smtp.url, RELEASE_POLL_SECONDS: '1' };
    const concurrency = loadConfig({ ...process.env, ...env }).DELIVERY_CONCURRENCY;
    let started = 0;
    const startWorker = () => {
      const p = startDrillProcess(DRILL, `worker-${++started}`, 'workers/worker.ts', ctx, env);
      processes.push(p);
      return p;
    };
    const live = Array.from({ length: WORKERS }, startWorker);
    await Promise.all(live.map((p) => p.waitForLog('worker started', 60_000)));

    const t0 = Date.now();
    await releaseOnePerCentre(ctx.pool, centreIds);
    // kill a worker every few seconds while messages are going out, and start another in
    // its place; stop killing once all are told
    let kills = 0;
    let lastKillMs = 0;
    const atRisk = new Set<string>();
    while (kills < KILLS && tallyEmails(smtp, learners).missing.length) {
      await sleep(KILL_EVERY_MS);
      if (!tallyEmails(smtp, learners).missing.length) break;
      // the oldest worker that is up: one killed while still starting tests nothing
      const victim = live.find((p) => p.logs.some((l) => l.msg === 'worker started'));
      if (!victim) continue;
      live.splice(live.indexOf(victim), 1);
      victim.child.kill('SIGKILL');
      await victim.exited;
      kills++;
      live.push(startWorker());
      // let what the killed sender put on the wire reach the receiver before reading
      await sleep(200);
      for (const email of await acceptedNotMarkedSent(ctx.pool, smtp)) atRisk.add(email);
      lastKillMs = Date.now() - t0;
    }
    const toldAtLastKill = tallyEmails(smtp, learners).told;
    const tally = await waitUntilTold(smtp, learners, 150_000);
    const toldMs = Date.now() - t0;
    await waitUntilSettled(ctx.pool, 90_000);
    const final = tallyEmails(smtp, learners);
    const counts = new Map<string, number>();
    for (const a of smtp.arrivals) for (const to of a.envelopeTo) counts.set(to.toLowerCase(), (counts.get(to.toLowerCase()) ?? 0) + 1);
    const duplicatedLearners = [...counts].filter(([, n]) => n > 1).map(([email]) => email);
    printFigures(DRILL, {
      'messages due': final.due,
      told: final.told,
      duplicated: final.duplicates,
      'at risk at the kills (accepted, not SENT)': atRisk.size,
      kills,
      'worker processes': `${WORKERS} at a time, ${started} started`,
      'last kill after the release (s)': +(lastKillMs / 1000).toFixed(2),
      'told by the last kill': toldAtLastKill,
      'longest gap (s)': final.longestGapSeconds,
      'all told after the release (s)': +(toldMs / 1000).toFixed(2),
    });
    // no address, token or key of the drill's learners in what its processes logged
    await assertDrillLogsClean(DRILL, ctx.pool);
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(tally.missing).toEqual([]);
    // a duplicate is only ever a send the kill cut off between the accept and the SENT mark
    expect(duplicatedLearners.filter((e) => !atRisk.has(e))).toEqual([]);
    expect(final.duplicates).toBeLessThanOrEqual(kills * concurrency);
    const { rows } = await ctx.pool.query<{ status: string; n: number }>(
      `SELECT a.status::text AS status, count(*)::int AS n FROM user_alerts a JOIN users u ON u.id = a.user_id WHERE u.email LIKE 'killed-%' GROUP BY 1`,
    );
    expect(rows).toEqual([{ status: 'SENT', n: learners.length }]);
  });
});
