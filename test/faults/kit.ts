/**
 * What the delivery drills share. Learners are placed so that each is due exactly one
 * message: a watch of one mile at a DVSA centre no other chosen centre is within two miles
 * of, and one practical slot released per centre. Who should be told is then known apart
 * from the database's matching (the geodesic check in src/demo/expected.ts agrees), and
 * any second message to a learner is a duplicate. The processes under test log to files in
 * test-results/faults/logs/, and the tally reads the SMTP receiver's own record.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { PushReceiver } from '../../dev/push-receiver.js';
import type { SmtpReceiver } from '../../dev/smtp-receiver.js';
import { builtIsStale } from '../../dev/build.js';
import { insertCenters, loadCenters, type CenterRow } from '../../dev/centers.js';
import { waitForQuietPipeline } from '../../dev/pipeline.js';
import { migrate } from '../../src/db/migrate.js';
import { geodesicMetres } from '../../src/demo/expected.js';
import { projectRoot } from '../../src/paths.js';
import { saveSubscription } from '../../src/watches/push-subscriptions.js';
import type { TestContext } from '../helpers/context.js';
import { startOwnPostgres, type OwnPostgres } from '../helpers/postgres-server.js';
import { startProcess, type ProcessOptions, type RunningProcess } from '../helpers/processes.js';
import { withDatabase } from '../../src/db/urls.js';

export const DRILL_LOG_DIR = join(projectRoot, 'test-results', 'faults', 'logs');

/** test-results/faults/logs/<drill>-<name>.log */
export function drillLogFile(drill: string, name: string): string {
  return join(DRILL_LOG_DIR, `${drill}-${name}.log`);
}

/**
 * A web or worker process on the drill's services, run from the built code as the Procfile
 * runs it (`npm run test:faults` builds first), its output in a log file. Built, a process
 * starts in about a second where tsx takes several: a drill that kills and restarts
 * processes spends its time on the fault, not on compiling.
 */
export function startDrillProcess(drill: string, name: string, entry: 'workers/web.ts' | 'workers/worker.ts', ctx: TestContext, env: Record<string, string> = {}, options: ProcessOptions = {}): RunningProcess {
  return startProcess(builtEntry(entry), ctx, { LOG_LEVEL: 'info', ...env }, { logFile: drillLogFile(drill, name), ...options });
}

/** dist/workers/<name>.js for workers/<name>.ts; refuses a build older than its sources. */
function builtEntry(entry: string): string {
  const built = join('dist', entry.replace(/\.ts$/, '.js'));
  if (builtIsStale(built)) throw new Error(`${built} is missing or older than the sources: run the drills with \`npm run test:faults\`, which builds first (or \`npm run build\`)`);
  return built;
}

const MILE = 1609.344;

/** `count` real DVSA centres, no two within two miles of each other (so one-mile watches never overlap). */
export function spacedCentres(count: number): CenterRow[] {
  const chosen: CenterRow[] = [];
  for (const c of loadCenters().centers) {
    if (chosen.every((o) => geodesicMetres(c.latitude, c.longitude, o.latitude, o.longitude) > 2 * MILE)) chosen.push(c);
    if (chosen.length === count) return chosen;
  }
  throw new Error(`only ${chosen.length} centres are two miles apart; the drill asked for ${count}`);
}

export interface DrillLearner {
  id: string;
  email: string;
  centreId: string;
}

export interface PlacedLearners {
  centreIds: string[];
  learners: DrillLearner[];
}

/**
 * `perCentre` learners at each of `centres` spaced centres, verified and active, each with
 * one email watch of one mile for practical tests at their centre. Users are VIP, URGENT or
 * NORMAL in turn, so a drill can check the order of priority.
 */
export async function placeLearners(pool: pg.Pool, o: { centres: number; perCentre: number; tag: string }): Promise<PlacedLearners> {
  const centres = spacedCentres(o.centres);
  const centreIds = await insertCenters(pool, centres);
  const n = o.centres * o.perCentre;
  const { rows } = await pool.query<{ id: string; email: string; n: number }>(
    `INSERT INTO users (email, password_hash, priority, email_verified_at)
     SELECT $1 || '-' || g || '@example.com', 'x', (ARRAY['VIP','URGENT','NORMAL'])[1 + g % 3]::appointment_priority, now()
       FROM generate_series(0, $2::int - 1) g
     RETURNING id, email, split_part(split_part(email, '@', 1), '-', 2)::int AS n`,
    [o.tag, n],
  );
  rows.sort((a, b) => a.n - b.n);
  const learners = rows.map((r) => ({ id: r.id, email: r.email, centreId: centreIds[Math.floor(r.n / o.perCentre)]! }));
  const at = learners.map((l) => centres[centreIds.indexOf(l.centreId)]!);
  await pool.query(
    `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, preferred_test_types)
     SELECT u, lat, lon, 1, '["practical"]' FROM unnest($1::uuid[], $2::float8[], $3::float8[]) AS t(u, lat, lon)`,
    [learners.map((l) => l.id), at.map((c) => c.latitude), at.map((c) => c.longitude)],
  );
  return { centreIds, learners };
}

/**
 * One practical slot at each centre, each in its own statement (its own release row and
 * NOTIFY, as a feed publishing slot by slot), `daysAhead` days from now.
 */
export async function releaseOnePerCentre(pool: pg.Pool, centreIds: string[], daysAhead = 20): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, centreId] of centreIds.entries()) {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO time_slots (center_id, test_type, start_time, end_time)
       VALUES ($1, 'practical', date_trunc('hour', now()) + $2 * interval '1 day' + $3 * interval '1 minute',
               date_trunc('hour', now()) + $2 * interval '1 day' + $3 * interval '1 minute' + interval '57 minutes')
       RETURNING id`,
      [centreId, daysAhead, i],
    );
    ids.push(rows[0]!.id);
  }
  return ids;
}

export interface Tally {
  due: number;
  told: number;
  /** Learners never told. */
  missing: string[];
  /** Messages beyond the first to a learner. */
  duplicates: number;
  /** The longest time between two messages arriving, in seconds, from the first to the last. */
  longestGapSeconds: number;
}

/** Who of `learners` the SMTP receiver has heard about, and how often. */
export function tallyEmails(smtp: SmtpReceiver, learners: DrillLearner[]): Tally {
  return tallyOf(emailDeliveries(smtp, learners), learners);
}

/** Waits until every learner has been told (or `timeoutMs` passes), then gives the tally. */
export async function waitUntilTold(smtp: SmtpReceiver, learners: DrillLearner[], timeoutMs: number): Promise<Tally> {
  return waitForTally(() => tallyEmails(smtp, learners), timeoutMs);
}

/** A learner whose watch asks for web push, with one browser subscribed on a test push receiver. */
export interface PushLearner extends DrillLearner {
  subscriptionId: string;
}

/**
 * Switches `learners`' watches to push, each learner with a subscription of their own on
 * `receiver`, saved as the API saves a browser's (saveSubscription).
 */
export async function subscribeForPush(pool: pg.Pool, receiver: PushReceiver, learners: DrillLearner[]): Promise<PushLearner[]> {
  const out: PushLearner[] = [];
  for (const l of learners) {
    const device = receiver.subscribe();
    await saveSubscription(pool, l.id, { endpoint: device.endpoint, p256dh: device.keys.p256dh, auth: device.keys.auth });
    out.push({ ...l, subscriptionId: device.id });
  }
  await pool.query(`UPDATE user_preferences SET notification_method = 'push' WHERE user_id = ANY($1::uuid[])`, [learners.map((l) => l.id)]);
  return out;
}

/** One message accepted by a receiver, and for whom. */
export interface Delivery {
  learner: DrillLearner;
  receivedAt: number;
}

/** The messages the SMTP receiver accepted for `learners`, in the order they arrived. */
export function emailDeliveries(smtp: SmtpReceiver, learners: DrillLearner[]): Delivery[] {
  const byEmail = new Map(learners.map((l) => [l.email.toLowerCase(), l]));
  return smtp.arrivals.flatMap((a) => a.envelopeTo.flatMap((to) => {
    const learner = byEmail.get(to.toLowerCase());
    return learner ? [{ learner, receivedAt: a.receivedAt }] : [];
  }));
}

/** The pushes the push receiver accepted (201) for `learners`, in the order they arrived. */
export function pushDeliveries(push: PushReceiver, learners: PushLearner[]): Delivery[] {
  const bySubscription = new Map(learners.map((l) => [l.subscriptionId, l]));
  return push.delivered().flatMap((r) => {
    const learner = bySubscription.get(r.subscriptionId);
    return learner ? [{ learner, receivedAt: r.receivedAt }] : [];
  });
}

/** Who of `learners` the deliveries reached, how often, and the longest silence between two. */
export function tallyOf(deliveries: Delivery[], learners: DrillLearner[]): Tally {
  const counts = new Map<string, number>();
  for (const d of deliveries) counts.set(d.learner.id, (counts.get(d.learner.id) ?? 0) + 1);
  const missing = learners.filter((l) => !counts.has(l.id)).map((l) => l.email);
  const duplicates = learners.reduce((sum, l) => sum + Math.max(0, (counts.get(l.id) ?? 0) - 1), 0);
  const times = deliveries.map((d) => d.receivedAt).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return { due: learners.length, told: learners.length - missing.length, missing, duplicates, longestGapSeconds: +(gap / 1000).toFixed(2) };
}

/** Waits until `tally()` finds no learner missing (or `timeoutMs` passes), then gives it. */
export async function waitForTally(tally: () => Tally, timeoutMs: number): Promise<Tally> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = tally();
    if (t.missing.length === 0 || Date.now() > deadline) return t;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Waits until nothing is left to send (no release unprocessed, no alert or message pending
 * or being sent), so that a later tally is final and counts every duplicate.
 */
export async function waitUntilSettled(pool: pg.Pool, timeoutMs: number): Promise<void> {
  await waitForQuietPipeline(pool, timeoutMs, { what: 'the drill\'s work' });
}

/** One line per figure, under the drill's name, so the CI log shows what each drill measured. */
export function printFigures(drill: string, figures: Record<string, string | number | boolean>): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  // eslint-disable-next-line no-console -- the figures are the drill's report in the CI log
  console.log([`drill: ${drill}`, ...Object.entries(figures).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n'));
}

/** A migrated database on a PostgreSQL server of the drill's own (startOwnPostgres), and a pool on it. */
export interface OwnDatabase {
  server: OwnPostgres;
  databaseUrl: string;
  pool: pg.Pool;
  /** Ends the pool and removes the server with its data. */
  close(): Promise<void>;
}

/**
 * Starts a PostgreSQL server of the drill's own, creates `name` on it and migrates it as a
 * release would (src/db/migrate.ts), so the drill can stop and start the server under the
 * processes without touching the one every other test file shares.
 */
export async function startOwnDatabase(name = 'slotwatch_drill'): Promise<OwnDatabase> {
  const server = await startOwnPostgres();
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`).finally(() => admin.end());
    const databaseUrl = withDatabase(server.adminUrl, name);
    await migrate({ databaseUrl, direction: 'up' });
    // not createPool: its idle clients' errors are logged, and here the drill stops the server on purpose
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, application_name: 'slotwatch-drill' });
    pool.on('error', () => {});
    return {
      server,
      databaseUrl,
      pool,
      async close() {
        await pool.end();
        await server.close();
      },
    };
  } catch (err) {
    await server.close();
    throw err;
  }
}

/**
 * Emails (lower-case) whose message the SMTP receiver has accepted while their alert is
 * still not marked SENT. Read just after a sender is killed, these are the sends it cut off
 * mid-flight: another sender retakes each claim once its lease runs out and sends it again.
 * (Sends of live senders between their accept and their SENT mark are counted too, so this
 * is an upper bound.)
 */
export async function acceptedNotMarkedSent(pool: pg.Pool, smtp: SmtpReceiver): Promise<string[]> {
  const { rows } = await pool.query<{ email: string }>(
    `SELECT lower(u.email) AS email FROM user_alerts a JOIN users u ON u.id = a.user_id WHERE a.status IN ('PENDING', 'SENDING')`,
  );
  const accepted = new Set(smtp.arrivals.flatMap((a) => a.envelopeTo.map((to) => to.toLowerCase())));
  return rows.map((r) => r.email).filter((e) => accepted.has(e));
}
