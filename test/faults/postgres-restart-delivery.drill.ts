/**
 * PostgreSQL restarts (fast shutdown, a few seconds down, start) while a web and a worker
 * process are sending a burst of alerts. Meanwhile the web process answers /readyz 503
 * and requests 503 DEPENDENCY_UNAVAILABLE with Retry-After, or 4xx, never 500; neither
 * process exits; both recover by themselves. Slots released right after the server
 * returns reach their learners with the scheduled poll set an hour apart, so it is the
 * release listener, connected and LISTENing again, that wakes the matcher.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { createSession } from '../../src/accounts/sessions.js';
import { useTestContext } from '../helpers/context.js';
import { insertUser } from '../helpers/factories.js';
import { stopProcess, type RunningProcess } from '../helpers/processes.js';
import { freePort } from '../../dev/redis-server.js';
import { assertDrillLogsClean } from '../helpers/log-scan.js';
import {
  placeLearners,
  printFigures,
  releaseOnePerCentre,
  startDrillProcess,
  startOwnDatabase,
  tallyEmails,
  waitUntilSettled,
  waitUntilTold,
  type OwnDatabase,
} from './kit.js';

const DRILL = 'postgres-restart-delivery';
const CENTRES = 30;
const PER_CENTRE = 8;
/** Centres whose slots are released before the restart; the rest right after it. */
const BEFORE = 20;
const DOWN_MS = 4_000;

const ctx = useTestContext(); // Redis and the queue prefix; the database is the drill's own
let db: OwnDatabase;
let smtp: SmtpReceiver;
const processes: RunningProcess[] = [];

beforeAll(async () => {
  db = await startOwnDatabase();
  smtp = await startSmtpReceiver();
});

afterAll(async () => {
  await Promise.all(processes.map((p) => stopProcess(p)));
  await smtp?.close();
  await db?.close();
});

interface Probe {
  at: number;
  path: string;
  /** The HTTP status, or what went wrong when there was no answer. */
  status: number | string;
  code?: string;
  retryAfter?: string | null;
}

/** Asks the web process `paths` over and over until stopped, keeping every answer. */
function probeWeb(base: string, paths: string[], headers: Record<string, string>) {
  const seen: Probe[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      for (const path of paths) {
        const at = Date.now();
        try {
          const res = await fetch(base + path, { headers, signal: AbortSignal.timeout(15_000) });
          const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
          seen.push({ at, path, status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after') });
        } catch (err) {
          seen.push({ at, path, status: (err as Error).name });
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    seen,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('PostgreSQL restarted during a delivery run', () => {
  it('web refuses with 503 meanwhile, both processes recover by themselves, every learner is told', async () => {
    const { centreIds, learners } = await placeLearners(db.pool, { centres: CENTRES, perCentre: PER_CENTRE, tag: 'pgrestart' });
    const early = learners.filter((l) => centreIds.indexOf(l.centreId) < BEFORE);
    const late = learners.filter((l) => centreIds.indexOf(l.centreId) >= BEFORE);
    const client = await insertUser(db.pool);
    const { token } = await createSession(db.pool, client.id, 1);

    const port = await freePort();
    const env = {
      DATABASE_URL: db.databaseUrl,
      SMTP_URL: smtp.url,
      PORT: String(port),
      // the scheduled poll an hour apart: only the release listener can wake the matcher in time
      RELEASE_POLL_SECONDS: '3600',
      // a burst that lasts a few seconds, so the restart lands in the middle of it
      DELIVERY_EMAIL_PER_SECOND: '40',
    };
    const web = startDrillProcess(DRILL, 'web', 'workers/web.ts', ctx, env);
    const worker = startDrillProcess(DRILL, 'worker', 'workers/worker.ts', ctx, env);
    processes.push(web, worker);
    await Promise.all([web.waitForLog('web listening'), worker.waitForLog('worker started')]);
    const base = `http://127.0.0.1:${port}`;
    const probes = probeWeb(base, ['/readyz', '/api/slots?lat=51.5&lon=-0.12', '/api/me'], { authorization: `Bearer ${token}` });

    const releasedAt = Date.now();
    await releaseOnePerCentre(db.pool, centreIds.slice(0, BEFORE));
    // the restart lands while the burst is being sent
    for (;;) {
      const told = tallyEmails(smtp, early).told;
      if (told >= early.length / 4) break;
      expect(Date.now() - releasedAt, 'the burst under way').toBeLessThan(30_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    const toldBeforeRestart = tallyEmails(smtp, early).told;
    const downAt = Date.now();
    await db.server.restart(DOWN_MS);
    const backAt = Date.now();

    // released as soon as the server takes writes again
    await releaseOnePerCentre(db.pool, centreIds.slice(BEFORE), 21);
    const lateReleasedAt = Date.now();
    const lateTally = await waitUntilTold(smtp, late, 60_000);
    const lateToldAt = Math.max(...smtp.arrivals.filter((a) => late.some((l) => a.envelopeTo.includes(l.email))).map((a) => a.receivedAt));
    expect(lateTally.missing, 'learners of the slots released after the restart never told').toEqual([]);
    const tally = await waitUntilTold(smtp, learners, 60_000);
    expect(tally.missing, 'learners never told').toEqual([]);
    await waitUntilSettled(db.pool, 60_000);
    // readiness back without a restart of either process
    let readyAgainAt = 0;
    for (const deadline = Date.now() + 30_000; !readyAgainAt && Date.now() < deadline; ) {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) readyAgainAt = Date.now();
      else await new Promise((r) => setTimeout(r, 100));
    }
    await probes.stop();
    const final = tallyEmails(smtp, learners);

    const during = probes.seen.filter((p) => p.at >= downAt);
    const firstReady = during.find((p) => p.path === '/readyz' && p.status === 200 && p.at >= backAt);
    const statuses = new Map<string, number>();
    for (const p of probes.seen) {
      const key = `${p.path.split('?')[0]} ${p.status}${p.code ? ` ${p.code}` : ''}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    const { rows: listeners } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'slotwatch-release-listener' AND query = 'LISTEN slot_released'`,
    );
    const { rows: attempts } = await db.pool.query<{ status: string; attempts: number; n: string }>(
      `SELECT status, attempts, count(*) AS n FROM user_alerts GROUP BY status, attempts ORDER BY status, attempts`,
    );

    // from the worker's own log: when the slots released after the restart were matched,
    // and which messages went out while the server was down (their SENT marks retried in place)
    const matchedAt = worker.logs.find((l) => l.msg === 'releases matched' && (l.time as number) >= lateReleasedAt)?.time as number | undefined;
    const markedLate = new Set(worker.logs.filter((l) => l.msg === 'sent, but could not record it yet; retrying the record, not the send').map((l) => l.alertId));

    printFigures(DRILL, {
      'messages due': final.due,
      told: final.told,
      duplicated: final.duplicates,
      'longest gap (s)': final.longestGapSeconds,
      'told before the restart': toldBeforeRestart,
      'PostgreSQL down (s)': ((backAt - downAt) / 1000).toFixed(2),
      'time to recover: back to /readyz 200 (s)': (((firstReady?.at ?? readyAgainAt) - backAt) / 1000).toFixed(2),
      'released after it returned, to matched (s)': matchedAt ? ((matchedAt - lateReleasedAt) / 1000).toFixed(2) : 'never',
      'released after it returned, to all of them told (s)': ((lateToldAt - lateReleasedAt) / 1000).toFixed(2),
      'sent while it was down, SENT mark retried': markedLate.size,
      'alerts by status and attempts': attempts.map((r) => `${r.status}×${r.attempts}: ${r.n}`).join(', '),
      'web answers': [...statuses].map(([k, n]) => `${k}: ${n}`).join('; '),
      'release listeners LISTENing after it': listeners[0]!.n,
    });
    // no address, token or key of the drill's learners in what its processes logged
    await assertDrillLogsClean(DRILL, db.pool);

    // never a fault of ours, and never left hanging: 503 with Retry-After, or 4xx
    const bad = probes.seen.filter((p) => typeof p.status !== 'number' || p.status >= 500 && !(p.status === 503 && (p.path === '/readyz' || (p.code === 'DEPENDENCY_UNAVAILABLE' && p.retryAfter))));
    expect(bad, 'answers other than 2xx, 4xx, or 503 with DEPENDENCY_UNAVAILABLE and Retry-After').toEqual([]);
    expect(during.some((p) => p.path === '/readyz' && p.status === 503), '/readyz said not ready while the server was down').toBe(true);
    expect(readyAgainAt, '/readyz 200 again').toBeGreaterThan(0);
    expect(web.child.exitCode ?? web.child.signalCode, 'web still running').toBeNull();
    expect(worker.child.exitCode ?? worker.child.signalCode, 'worker still running').toBeNull();
    expect(Number(listeners[0]!.n), 'the release listener LISTENs again').toBe(1);
    // the listener reconnects with a backoff of at most 30 s; the scheduled poll is an hour away
    expect(matchedAt, 'slots released after the restart matched by the listener, not at the next scheduled poll').toBeDefined();
    expect(matchedAt! - lateReleasedAt).toBeLessThan(30_000);
    expect(final.told).toBe(learners.length);
    // a message that went out while the server was down has its SENT mark retried in place
    // for about 7.5 s (send-processor.ts), longer than this outage: so none is sent again. A
    // longer outage leaves it SENDING, and it is sent a second time once its lease ends.
    expect(final.duplicates, 'messages sent twice').toBe(0);
  });
});
