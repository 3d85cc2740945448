/**
 * `npm run bench -- e2e [--watches 100000] [--seconds 120] [--rate <messages/s>] [--first-messages 200]
 *  [--capacity-learners 3000]`: the whole loop as production runs it. The web process and two
 * worker processes start as the Procfile starts them, from the built code (dist/, built
 * first when missing or older than the sources), on a database and queue prefix of the
 * bench's own (removed after). Watches are placed at the real DVSA centres like real
 * learners (bench/match.ts's generator; 70% email, 30% push), and messages go to the local
 * SMTP server and a push endpoint that checks every VAPID JWT (bench/_receivers.ts, in a
 * child process), where each is timed when it is accepted. Slots are released only as an
 * operator does it: POST /api/operator/slots, signed in.
 *
 * In order:
 *   1. the first burst after the workers start: slots owing about `--first-messages`
 *      messages, released the moment both workers say they started;
 *   2. the delivery capacity of this machine: one slot at a centre of its own, watched by
 *      `--capacity-learners` learners who watch nothing else, so every alert is a message
 *      of its own; messages/s accepted between the 5th and 95th percentile arrivals;
 *   3. a steady stream for `--seconds`: slots released every 250 ms, as many as keep the
 *      expected messages at `--rate` (half the capacity unless given).
 *
 * Who should be told about each slot is computed here, apart from the database's matching
 * (geodesic distance, test type, date window; src/demo/expected.ts). Digests stay on, at
 * the product's default (alert_digest_seconds 60): a learner's first alert is a message at
 * once, and alerts in the following window wait for the digest. So two latencies are
 * reported, each with its own goal: immediate messages from the release's commit (the
 * operator's request sent) to the receiver's acceptance, and digests from the moment they
 * were due (alert_messages.send_after) to acceptance. Digested alerts' release-to-message
 * time is reported too, for what it is: the digest window by design.
 * Goals: immediate p99 < 1 s in the steady stream, p95 < 1 s for the first burst, every
 * expected learner told. Figures go to bench/results/e2e.json and e2e.md, charts to
 * e2e-latency-over-time.svg and e2e-latency-histogram.svg; process logs to
 * bench/results/logs/ (git-ignored).
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import webpush from 'web-push';
import { hashPassword } from '../src/accounts/passwords.js';
import { createUser } from '../src/accounts/users.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { withDatabase } from '../src/db/urls.js';
import { geodesicMetres } from '../src/demo/expected.js';
import { Api } from '../src/demo/api.js';
import { log } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import { createRedis, deleteQueuePrefixKeys } from '../src/queues/redis.js';
import type { TestSubscription } from '../dev/push-receiver.js';
import { insertCenters, loadCenters, prng } from '../dev/centers.js';
import { stopChildren, waitForQuietPipeline } from '../dev/pipeline.js';
import { arg } from './_args.js';
import { e2eWhyNotMet } from './_e2e-why.js';
import { ensureBuilt, loopEnv, startBuilt } from './_processes.js';
import { startReceivers } from './_receivers-ipc.js';
import { histogram, scatterChart } from './_svg.js';
import { createPickTables, WATCHES_SQL } from './match.js';

const METRES_PER_MILE = 1609.344;
const TICK_MS = 250;
const GOAL_SECONDS = 1;
const resultsDir = join(projectRoot, 'bench', 'results');
const logsDir = join(resultsDir, 'logs');

type Stats = { n: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const p = (q: number) => (s.length ? +s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]!.toFixed(3) : null);
  return { n: s.length, p50: p(50), p95: p(95), p99: p(99), max: s.length ? +s.at(-1)!.toFixed(3) : null };
}
const fmtStats = (s: Stats) => (s.n ? `p50 ${s.p50} s, p95 ${s.p95} s, p99 ${s.p99} s, max ${s.max} s (${s.n})` : 'none');

// ---- who should be told, computed apart -------------------------------------------------

interface Watch {
  userId: string;
  lat: number;
  lon: number;
  radiusM: number;
  types: string[];
  earliest: string | null;
  latest: string | null;
}
interface Centre {
  id: string;
  lat: number;
  lon: number;
  specialistId: string;
}
interface PlannedSlot {
  centre: Centre;
  testType: 'practical' | 'theory';
  start: Date;
  /** Learners who should be told (user ids). */
  expected: string[];
}

/** Metres on a sphere: a cheap bound to skip watches far out of reach before the geodesic. */
function sphereMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(a));
}

class Expectations {
  private readonly byCentre = new Map<string, Watch[]>();
  constructor(private readonly watches: Watch[]) {}

  /** Users with a watch covering a slot of `testType` at `centre` on London date `date` (YYYY-MM-DD). */
  recipients(centre: Centre, testType: string, date: string): string[] {
    let near = this.byCentre.get(centre.id);
    if (!near) {
      near = this.watches.filter(
        (w) => sphereMetres(w.lat, w.lon, centre.lat, centre.lon) <= w.radiusM * 1.01 + 100 && geodesicMetres(w.lat, w.lon, centre.lat, centre.lon) <= w.radiusM,
      );
      this.byCentre.set(centre.id, near);
    }
    const users = new Set<string>();
    for (const w of near) {
      if (w.types.includes(testType) && (w.earliest === null || w.earliest <= date) && (w.latest === null || w.latest >= date)) users.add(w.userId);
    }
    return [...users];
  }
}

const londonDate = (d: Date) => d.toLocaleDateString('en-CA', { timeZone: 'Europe/London' });

/** Slots at centres drawn as the watches were (busier centres more often), each examiner never twice at one hour. */
class SlotPlanner {
  private readonly used = new Set<string>();
  private readonly rand = prng(7);
  constructor(
    private readonly picks: Centre[],
    private readonly expectations: Expectations,
  ) {}

  next(at?: Centre): PlannedSlot {
    for (;;) {
      const centre = at ?? this.picks[Math.floor(this.rand() * this.picks.length)]!;
      const day = Math.floor(this.rand() * 180);
      const hour = 9 + Math.floor(this.rand() * 8);
      const key = `${centre.id}/${day}/${hour}`;
      if (this.used.has(key)) continue;
      this.used.add(key);
      const start = new Date(Date.UTC(2031, 0, 1 + day, hour));
      const testType = this.rand() < 0.85 ? 'practical' : 'theory';
      return { centre, testType, start, expected: this.expectations.recipients(centre, testType, londonDate(start)) };
    }
  }
}

// ---- processes ------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---- the run --------------------------------------------------------------------------

type Phase = 'first' | 'warm' | 'capacity' | 'steady';
interface Released {
  slotId: string;
  phase: Phase;
  /** When the operator's request was sent: the release commits before its answer. */
  at: number;
  expected: string[];
}

export default async function main(args: string[]): Promise<void> {
  const watchCount = Number(arg(args, '--watches', '100000'));
  const seconds = Number(arg(args, '--seconds', '120'));
  const rateArg = arg(args, '--rate', '');
  const firstMessages = Number(arg(args, '--first-messages', '200'));
  const capacityLearners = Number(arg(args, '--capacity-learners', '3000'));
  for (const [name, v] of Object.entries({ watchCount, seconds, firstMessages, capacityLearners })) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`e2e: ${name} must be a number of 0 or more`);
  }
  log.level = 'warn';
  // every figure here is CPU-bound on a small machine: say how busy it was besides us
  const loadAtStart = loadavg().map((l) => +l.toFixed(2));
  mkdirSync(logsDir, { recursive: true });
  ensureBuilt('e2e');

  const adminUrl = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const database = `sw_bench_e2e_${process.pid}`;
  const prefix = `sw-bench-e2e-${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabase(adminUrl, database);
  const pool = createPool(url, { max: 4, applicationName: 'slotwatch-bench-e2e' });
  const vapid = webpush.generateVAPIDKeys();
  const receivers = startReceivers();
  const children: ChildProcess[] = [];
  const logFile = join(logsDir, 'e2e-processes.log');
  const logStream = createWriteStream(logFile);
  try {
    const { smtpUrl } = await receivers.call<{ smtpUrl: string }>('start', { vapidPublicKey: vapid.publicKey });
    await migrate({ databaseUrl: url, direction: 'up' });

    // ---- the world: centres with an examiner each, learners and their watches
    const { centers: rows, real } = loadCenters();
    const capacityCentre = { externalId: 'bench-capacity', name: 'Capacity centre (bench)', postcode: 'ZZ9 9ZZ', latitude: 53, longitude: -14 };
    await insertCenters(pool, [...rows, capacityCentre]);
    const { rows: examiners } = await pool.query<{ id: string; center_id: string; lat: number; lon: number; ext: string }>(
      `INSERT INTO specialists (full_name, service_type, center_id)
       SELECT 'Examiner at ' || name, 'driving examiner', id FROM test_centers
       RETURNING id, center_id, (SELECT latitude FROM test_centers c WHERE c.id = center_id) AS lat,
                 (SELECT longitude FROM test_centers c WHERE c.id = center_id) AS lon, (SELECT external_id FROM test_centers c WHERE c.id = center_id) AS ext`,
    );
    const centreById = new Map(examiners.map((e) => [e.center_id, { id: e.center_id, lat: e.lat, lon: e.lon, specialistId: e.id }]));
    const capacity = centreById.get(examiners.find((e) => e.ext === 'bench-capacity')!.center_id)!;
    console.log(`bench e2e: ${rows.length} ${real ? 'DVSA' : 'generated'} centres, ${watchCount.toLocaleString()} watches (70% email, 30% push); seeding`);
    await createPickTables(pool);
    await pool.query(`DELETE FROM bench_pick WHERE center_id = $1::uuid`, [capacity.id]);
    const users = Math.round(watchCount * 0.8);
    await pool.query(`INSERT INTO bench_users (n, id) SELECT g, gen_random_uuid() FROM generate_series(1, $1::int) g`, [users]);
    await pool.query(`INSERT INTO users (id, email, password_hash, email_verified_at) SELECT id, 'learner' || n || '@bench.example', 'x', now() FROM bench_users`);
    for (let from = 1; from <= watchCount; from += 100_000) await pool.query(WATCHES_SQL, [from, Math.min(watchCount, from + 99_999), users]);
    // the capacity learners watch only their own centre, far out at sea: one alert each
    await pool.query(
      `WITH u AS (
         INSERT INTO users (email, password_hash, email_verified_at)
         SELECT 'capacity' || g || '@bench.example', 'x', now() FROM generate_series(1, $1::int) g RETURNING id
       )
       INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, notification_method, preferred_test_types)
       SELECT id, 53, -14, 5, (CASE WHEN random() < 0.7 THEN 'email' ELSE 'push' END)::notification_method, '["practical","theory"]'::jsonb FROM u`,
      [capacityLearners],
    );
    const { rows: pushUsers } = await pool.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM user_preferences WHERE notification_method = 'push'`);
    const subs = await receivers.call<TestSubscription[]>('subscribe', { n: pushUsers.length });
    await pool.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])`,
      [pushUsers.map((u) => u.user_id), subs.map((s) => s.endpoint), subs.map((s) => s.keys.p256dh), subs.map((s) => s.keys.auth)],
    );
    const userBySub = new Map(subs.map((s, i) => [s.id, pushUsers[i]!.user_id]));
    const operatorPassword = 'bench-operator-password';
    await createUser(pool, { email: 'operator@bench.example', passwordHash: await hashPassword(operatorPassword), role: 'OPERATOR' });
    await pool.query('VACUUM ANALYZE');

    const { rows: w } = await pool.query<{ user_id: string; lat: number; lon: number; r: number; t: string[]; e: string | null; l: string | null }>(
      `SELECT user_id, latitude AS lat, longitude AS lon, radius_miles::float8 AS r, preferred_test_types AS t, earliest_date::text AS e, latest_date::text AS l
         FROM user_preferences WHERE is_active`,
    );
    const expectations = new Expectations(w.map((x) => ({ userId: x.user_id, lat: x.lat, lon: x.lon, radiusM: x.r * METRES_PER_MILE, types: x.t, earliest: x.e, latest: x.l })));
    const { rows: picks } = await pool.query<{ center_id: string }>(`SELECT center_id FROM bench_pick ORDER BY rn`);
    const planner = new SlotPlanner(
      picks.map((p) => centreById.get(p.center_id)!),
      expectations,
    );
    const { rows: digestRow } = await pool.query<{ v: number | null }>(`SELECT (value #>> '{}')::int AS v FROM system_config WHERE key = 'alert_digest_seconds'`);
    const digestSeconds = digestRow[0]?.v ?? 60;

    // ---- web and two workers, as the Procfile runs them
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = loopEnv({ databaseUrl: url, redisUrl, queuePrefix: prefix, port, smtpUrl, vapid });
    children.push(startBuilt('workers/web.js', env, logStream));
    const api = new Api(base);
    await api.waitUntilReady();
    const token = await api.login('operator@bench.example', operatorPassword);
    const released: Released[] = [];
    const publish = async (slots: PlannedSlot[], phase: Phase) => {
      const at = Date.now();
      const made = await api.publishSlots(
        token,
        slots.map((s) => ({ specialistId: s.centre.specialistId, testType: s.testType, startTime: s.start.toISOString(), endTime: new Date(s.start.getTime() + 57 * 60_000).toISOString() })),
      );
      made.forEach((m, i) => released.push({ slotId: m.id, phase, at, expected: slots[i]!.expected }));
      return Date.now() - at;
    };

    // the bursts' slots are chosen before the workers start: nothing else runs then
    const burstOf = () => {
      const out: PlannedSlot[] = [];
      for (let tries = 0, n = 0; tries < 5000 && out.length < 16 && n < firstMessages; tries++) {
        const s = planner.next();
        if (!s.expected.length || n + s.expected.length > firstMessages) continue;
        out.push(s);
        n += s.expected.length;
      }
      return out;
    };
    const first = burstOf();
    const warm = burstOf();
    let started = 0;
    const workersStarted = new Promise<void>((resolve) => {
      const onLine = (line: string) => {
        if (line.includes('"worker started"') && ++started === 2) resolve();
      };
      for (let i = 0; i < 2; i++) children.push(startBuilt('workers/worker.js', env, logStream, onLine));
    });
    const workersAt = Date.now();
    await Promise.race([workersStarted, sleep(60_000).then(() => Promise.reject(new Error('e2e: the workers did not start within 60 s')))]);
    console.log(`workers started in ${((Date.now() - workersAt) / 1000).toFixed(1)} s; first burst: ${first.length} slots, ${first.reduce((n, s) => n + s.expected.length, 0)} learners to tell`);
    await publish(first, 'first');
    await waitForQuietPipeline(pool, 120_000, { digests: false, what: 'e2e: the pipeline' });
    await sleep(1000);
    // the same size again, now that everything has run once: the baseline for the first
    await publish(warm, 'warm');
    await waitForQuietPipeline(pool, 120_000, { digests: false, what: 'e2e: the pipeline' });
    await sleep(1000);

    // ---- capacity: one slot, one message to each capacity learner
    let rate = Number(rateArg);
    let capacityFigures: { messages: number; seconds: number; perSecond: number } | null = null;
    if (!rateArg && seconds > 0) {
      const before = await receivers.call<{ push: number; email: number }>('counts');
      await publish([planner.next(capacity)], 'capacity');
      await waitForQuietPipeline(pool, 300_000, { digests: false, what: 'e2e: the pipeline' });
      await sleep(500);
      // the capacity learners' messages only: earlier bursts' digests may fall due meanwhile
      const { rows: capacityUsers } = await pool.query<{ id: string }>(`SELECT id FROM users WHERE email LIKE 'capacity%'`);
      const isCapacityUser = new Set(capacityUsers.map((u) => u.id));
      const times = [
        ...(await receivers.call<[string, number][]>('accepted', { channel: 'email', from: before.email })).filter(([to]) => to.startsWith('capacity')),
        ...(await receivers.call<[string, number][]>('accepted', { channel: 'push', from: before.push })).filter(([sub]) => isCapacityUser.has(userBySub.get(sub) ?? '')),
      ]
        .map(([, t]) => t)
        .sort((a, b) => a - b);
      const lo = times[Math.floor(times.length * 0.05)]!;
      const hi = times[Math.floor(times.length * 0.95)]!;
      const n = Math.floor(times.length * 0.95) - Math.floor(times.length * 0.05);
      capacityFigures = { messages: times.length, seconds: +((hi - lo) / 1000).toFixed(2), perSecond: Math.round(n / ((hi - lo) / 1000)) };
      rate = Math.round(capacityFigures.perSecond / 2);
      console.log(`capacity: ${capacityFigures.perSecond} messages/s (${times.length} messages, the middle 90% in ${capacityFigures.seconds} s); steady stream at ${rate}/s`);
    }

    // ---- the steady stream: expected messages paced at `rate`, digests modelled as the product routes them
    const lastMessage = new Map<string, number>();
    const openDigestDue = new Map<string, number>();
    let owed = 0;
    let requests = 0;
    const answerMs: number[] = [];
    const streamAt = Date.now();
    if (seconds > 0) {
      console.log(`steady stream: ${seconds} s at ${rate} messages/s (digests every ${digestSeconds} s)`);
      const predict = (s: PlannedSlot, now: number) => {
        let messages = 0;
        for (const u of s.expected) {
          const due = openDigestDue.get(u);
          if (due !== undefined && due > now) continue; // joins the open digest
          if (due !== undefined) lastMessage.set(u, due);
          const last = lastMessage.get(u);
          if (last !== undefined && now - last < digestSeconds * 1000) openDigestDue.set(u, last + digestSeconds * 1000);
          else lastMessage.set(u, now);
          messages++;
        }
        return messages;
      };
      while (Date.now() - streamAt < seconds * 1000) {
        const tickAt = Date.now();
        const batch: PlannedSlot[] = [];
        while (owed < ((tickAt - streamAt) / 1000) * rate) {
          const s = planner.next();
          batch.push(s);
          owed += predict(s, tickAt);
        }
        if (batch.length) {
          answerMs.push(await publish(batch, 'steady'));
          requests++;
        }
        await sleep(Math.max(0, TICK_MS - (Date.now() - tickAt)));
      }
    }
    const streamSeconds = (Date.now() - streamAt) / 1000;
    console.log(`released ${released.filter((r) => r.phase === 'steady').length} slots in ${requests} requests; waiting for every message, digests included`);
    await waitForQuietPipeline(pool, (digestSeconds + 180) * 1000, { digests: true, what: 'e2e: the pipeline' });
    await sleep(1000);

    // ---- what arrived, and what it carried
    const checks = await receivers.call<{ invalidPush: number; decrypted: number; invalidEmail: number; parsed: number }>('checks');
    const got = await receivers.call<{ email: [string, number, string][]; push: [string, number, string][] }>('identified');
    const { rows: alertRows } = await pool.query<{ id: string; user_id: string; slot_id: string; status: string; message_id: string | null; email: string }>(
      `SELECT a.id, a.user_id, a.slot_id, a.status::text, a.message_id, u.email FROM user_alerts a JOIN users u ON u.id = a.user_id`,
    );
    const { rows: messageRows } = await pool.query<{ id: string; kind: string; due: Date; status: string; created: Date }>(
      `SELECT id, kind, send_after AS due, status::text, created_at AS created FROM alert_messages`,
    );
    const slotOf = new Map(released.map((r) => [r.slotId, r]));
    const alertById = new Map(alertRows.map((a) => [a.id, a]));
    const messageById = new Map(messageRows.map((m) => [m.id, m]));
    const userByEmail = new Map(alertRows.map((a) => [a.email, a.user_id]));
    const carried = new Map<string, { userId: string; slotId: string }[]>();
    for (const a of alertRows) if (a.status === 'DIGESTED' && a.message_id) carried.set(a.message_id, [...(carried.get(a.message_id) ?? []), { userId: a.user_id, slotId: a.slot_id }]);
    const dashed = (t: string) => `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`;

    interface Arrival {
      key: string;
      at: number;
      kind: 'single' | 'digest';
      tells: { userId: string; slotId: string }[];
      due?: number;
    }
    const arrivals: Arrival[] = [];
    let unidentified = 0;
    for (const [to, at, messageId] of got.email) {
      const single = /^<alert-([0-9a-f-]{36})@/.exec(messageId)?.[1];
      const digest = /^<digest-([0-9a-f-]{36})@/.exec(messageId)?.[1];
      const a = single ? alertById.get(single) : undefined;
      if (a && userByEmail.get(to.toLowerCase()) === a.user_id) arrivals.push({ key: single!, at, kind: 'single', tells: [{ userId: a.user_id, slotId: a.slot_id }] });
      else if (digest && messageById.has(digest)) arrivals.push({ key: digest, at, kind: 'digest', tells: carried.get(digest) ?? [], due: messageById.get(digest)!.due.getTime() });
      else unidentified++;
    }
    for (const [sub, at, topic] of got.push) {
      const id = dashed(topic);
      const userId = userBySub.get(sub);
      if (messageById.get(id)?.kind === 'digest') arrivals.push({ key: id, at, kind: 'digest', tells: carried.get(id) ?? [], due: messageById.get(id)!.due.getTime() });
      else if (userId && slotOf.has(id)) arrivals.push({ key: `${userId}/${id}`, at, kind: 'single', tells: [{ userId, slotId: id }] });
      else unidentified++;
    }
    const seenKeys = new Map<string, number>();
    for (const a of arrivals) seenKeys.set(a.key, (seenKeys.get(a.key) ?? 0) + 1);
    const duplicates = [...seenKeys.values()].reduce((n, c) => n + c - 1, 0);

    const capped = new Set(alertRows.filter((a) => a.status === 'CAPPED').map((a) => `${a.user_id}/${a.slot_id}`));
    const phaseFigures = (phase: Phase) => {
      const mine = released.filter((r) => r.phase === phase);
      const ids = new Set(mine.map((r) => r.slotId));
      const expected = new Set(mine.flatMap((r) => r.expected.map((u) => `${u}/${r.slotId}`)));
      const told = new Set<string>();
      const singles: [number, number][] = [];
      const digestDue: number[] = [];
      const digestedRelease: number[] = [];
      let digestMessages = 0;
      for (const a of arrivals) {
        const ours = a.tells.filter((t) => ids.has(t.slotId));
        if (!ours.length) continue;
        for (const t of ours) told.add(`${t.userId}/${t.slotId}`);
        if (a.kind === 'single') {
          const r = slotOf.get(ours[0]!.slotId)!;
          singles.push([(r.at - streamAt) / 1000, (a.at - r.at) / 1000]);
        } else {
          digestMessages++;
          digestDue.push((a.at - a.due!) / 1000);
          for (const t of ours) digestedRelease.push((a.at - slotOf.get(t.slotId)!.at) / 1000);
        }
      }
      const missing = [...expected].filter((k) => !told.has(k) && !capped.has(k)).length;
      const unexpected = [...told].filter((k) => !expected.has(k)).length + alertRows.filter((a) => ids.has(a.slot_id) && !expected.has(`${a.user_id}/${a.slot_id}`)).length;
      return {
        slots: mine.length,
        expected: expected.size,
        told: [...told].filter((k) => expected.has(k)).length,
        capped: [...expected].filter((k) => capped.has(k)).length,
        missing,
        unexpected,
        sharetold: expected.size ? +([...told].filter((k) => expected.has(k)).length / expected.size).toFixed(5) : 1,
        messages: { single: singles.length, digest: digestMessages },
        immediate: stats(singles.map((s) => s[1])),
        digestDueToAccepted: stats(digestDue),
        digestedAlertReleaseToAccepted: stats(digestedRelease),
        points: singles,
      };
    };
    const firstF = phaseFigures('first');
    const warmF = phaseFigures('warm');
    const capF = phaseFigures('capacity');
    const steadyF = phaseFigures('steady');
    const steadyArrivals = arrivals.filter((a) => a.tells.some((t) => slotOf.get(t.slotId)?.phase === 'steady'));
    const throughput = {
      messagesPerSecond: +(steadyArrivals.length / streamSeconds).toFixed(1),
      alertsToldPerSecond: +(steadyF.told / streamSeconds).toFixed(1),
      targetMessagesPerSecond: rate,
    };

    // where the first burst's time went, from the rows' own timestamps (each a transaction's start)
    const stages = async (phase: Phase) => {
      const mine = released.filter((r) => r.phase === phase);
      if (!mine.length) return null;
      const { rows: s } = await pool.query<{ slot_id: string; matched: Date; enqueued: Date | null; routed: Date | null; sent: Date | null }>(
        `SELECT a.slot_id, a.created_at AS matched, a.enqueued_at AS enqueued, m.created_at AS routed, m.sent_at AS sent
           FROM user_alerts a JOIN alert_messages m ON m.id = a.message_id
          WHERE a.slot_id = ANY($1::uuid[]) AND a.status = 'SENT'`,
        [mine.map((r) => r.slotId)],
      );
      const since = (r: { slot_id: string }, d: Date | null) => (d ? (d.getTime() - slotOf.get(r.slot_id)!.at) / 1000 : NaN);
      const med = (xs: number[]) => {
        const st = stats(xs.filter((x) => !Number.isNaN(x)));
        return process.env.E2E_DEBUG ? [st.p50, st.max, Math.min(...xs)] : st.p50;
      };
      return {
        matchingStarted: med(s.map((r) => since(r, r.matched))),
        enqueued: med(s.map((r) => since(r, r.enqueued))),
        routedBySender: med(s.map((r) => since(r, r.routed))),
        markedSent: med(s.map((r) => since(r, r.sent))),
      };
    };
    const result = {
      when: new Date().toISOString(),
      command: `npm run bench -- e2e ${args.join(' ')}`.trim(),
      machine: { cpus: cpus().length, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((l) => +l.toFixed(2)) },
      centres: real ? 'DVSA' : 'generated',
      watches: watchCount,
      learners: users,
      pushSubscriptions: subs.length,
      processes: 'node dist/workers/web.js + 2 x node dist/workers/worker.js',
      digestSeconds,
      measuring:
        'immediate messages: from the operator request that released the slot (sent) to acceptance by the SMTP or push receiver; ' +
        'digests: from their due time (alert_messages.send_after) to acceptance. Digested alerts wait for the digest window by design: their release-to-message time is listed, not held to the one-second goal.',
      capacity: capacityFigures,
      firstBurst: { ...firstF, points: undefined, stagesMedianSecondsFromRelease: await stages('first') },
      warmBurst: { ...warmF, points: undefined, stagesMedianSecondsFromRelease: await stages('warm') },
      capacityBurst: { ...capF, points: undefined },
      steady: {
        seconds: +streamSeconds.toFixed(1),
        requests,
        operatorAnswerSeconds: stats(answerMs.map((x) => x / 1000)),
        // one release owes a message to each learner it matches: a big one is a burst of its own
        learnersPerSlot: stats(released.filter((r) => r.phase === 'steady').map((r) => r.expected.length)),
        throughput,
        ...steadyF,
        points: undefined,
        stagesMedianSecondsFromRelease: await stages('steady'),
      },
      everyone: {
        expected: firstF.expected + warmF.expected + capF.expected + steadyF.expected,
        told: firstF.told + warmF.told + capF.told + steadyF.told,
        missing: firstF.missing + warmF.missing + capF.missing + steadyF.missing,
        unexpected: firstF.unexpected + warmF.unexpected + capF.unexpected + steadyF.unexpected,
        duplicates,
        unidentifiedMessages: unidentified,
      },
      checks,
      goals: [
        { goal: 'steady stream: immediate messages p99 < 1 s', value: steadyF.immediate.p99, met: steadyF.immediate.p99 !== null && steadyF.immediate.p99 < GOAL_SECONDS },
        { goal: 'first burst after a start: p95 < 1 s', value: firstF.immediate.p95, met: firstF.immediate.p95 !== null && firstF.immediate.p95 < GOAL_SECONDS },
        { goal: 'digests: p99 < 1 s from due to accepted', value: steadyF.digestDueToAccepted.p99, met: steadyF.digestDueToAccepted.p99 === null || steadyF.digestDueToAccepted.p99 < GOAL_SECONDS },
        {
          goal: 'every expected learner told',
          value: `${firstF.told + warmF.told + capF.told + steadyF.told} of ${firstF.expected + warmF.expected + capF.expected + steadyF.expected}`,
          met: firstF.missing + warmF.missing + capF.missing + steadyF.missing === 0 && duplicates === 0 && checks.invalidEmail === 0 && checks.invalidPush === 0,
        },
      ],
    };
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'e2e.json'), JSON.stringify(result, null, 2) + '\n');
    writeCharts(steadyF.points, firstF.points, arrivals, streamAt, rate);
    const f = firstF;
    const st = steadyF;
    const md = [
      `# End to end: release → message, web + two workers from dist/`,
      '',
      `${result.when}, ${result.machine.cpus} CPUs (load average ${loadAtStart.join(' ')} at the start, ${result.machine.loadAverageAtEnd.join(' ')} at the end), ${result.centres} centres, ${watchCount.toLocaleString()} watches (${users.toLocaleString()} learners), ` +
        `digests every ${digestSeconds} s (the product's default). \`${result.command}\`; process logs in bench/results/logs/.`,
      '',
      `How it is measured: ${result.measuring}`,
      '',
      '| goal | measured | met |',
      '| --- | ---: | :---: |',
      ...result.goals.map((g) => `| ${g.goal} | ${String(g.value)}${typeof g.value === 'number' ? ' s' : ''} | ${g.met ? 'yes' : '**no**'} |`),
      '',
      `Capacity of this machine: ${capacityFigures ? `${capacityFigures.perSecond} messages/s (${capacityFigures.messages} learners with one alert each, the middle 90% accepted in ${capacityFigures.seconds} s)` : 'not measured (--rate given)'}.`,
      '',
      `First burst after the workers start: ${f.slots} slots, ${f.told} of ${f.expected} learners told in ${f.messages.single} messages; immediate ${fmtStats(f.immediate)}.`,
      `Median seconds from the release to each stage: ${JSON.stringify(result.firstBurst.stagesMedianSecondsFromRelease)}.`,
      `The same size again once warm (the baseline): ${warmF.slots} slots, ${warmF.told} of ${warmF.expected} told; immediate ${fmtStats(warmF.immediate)}; ` +
        `stages ${JSON.stringify(result.warmBurst.stagesMedianSecondsFromRelease)}. First / warm p95: ${firstF.immediate.p95 && warmF.immediate.p95 ? (firstF.immediate.p95 / warmF.immediate.p95).toFixed(1) : '-'}x.`,
      '',
      `Steady stream: ${result.steady.seconds} s, ${st.slots} slots in ${requests} operator requests (answered ${fmtStats(result.steady.operatorAnswerSeconds)}), ` +
        `target ${rate} messages/s; ${throughput.messagesPerSecond} messages/s accepted (${st.messages.single} immediate, ${st.messages.digest} digests), ` +
        `${throughput.alertsToldPerSecond} alerts told/s; ${st.told} of ${st.expected} expected told. ` +
        `Learners to tell per slot: p50 ${result.steady.learnersPerSlot.p50}, p95 ${result.steady.learnersPerSlot.p95}, max ${result.steady.learnersPerSlot.max}.`,
      '',
      `- immediate, release → accepted: ${fmtStats(st.immediate)}`,
      `- digests, due → accepted: ${fmtStats(st.digestDueToAccepted)}`,
      `- digested alerts, release → accepted (the digest window, by design): ${fmtStats(st.digestedAlertReleaseToAccepted)}`,
      `- median seconds from the release to each stage: ${JSON.stringify(result.steady.stagesMedianSecondsFromRelease)}`,
      '',
      `All phases: ${result.everyone.told} of ${result.everyone.expected} expected (learner, slot) pairs told, ${result.everyone.missing} missing, ` +
        `${result.everyone.unexpected} unexpected, ${duplicates} duplicate messages, ${unidentified} messages not identified; ` +
        `${checks.decrypted} push bodies decrypted (${checks.invalidPush} invalid), ${checks.parsed} emails parsed (${checks.invalidEmail} not as an alert should be).`,
      '',
      ...e2eWhyNotMet(result as unknown as Record<string, unknown>).flatMap((l, i, all) => (i === all.length - 1 ? [l, ''] : [l])),
      '![latency over time](e2e-latency-over-time.svg)',
      '',
      '![latency histogram](e2e-latency-histogram.svg)',
      '',
    ].join('\n');
    writeFileSync(join(resultsDir, 'e2e.md'), md);
    console.log('\n' + md);
    console.log(`process logs: ${logFile}`);
  } finally {
    await stopChildren(children, 20_000);
    logStream.end();
    await receivers.call('close').catch(() => {});
    if (receivers.child.connected) receivers.child.kill();
    await pool.end();
    const redis = createRedis(redisUrl, 'worker');
    await deleteQueuePrefixKeys(redis, prefix).finally(() => redis.disconnect());
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

function writeCharts(
  steady: [number, number][],
  first: [number, number][],
  arrivals: { at: number; kind: string; due?: number }[],
  streamAt: number,
  rate: number,
): void {
  const digests = arrivals.filter((a) => a.kind === 'digest' && a.due! >= streamAt).map((a): [number, number] => [(a.due! - streamAt) / 1000, (a.at - a.due!) / 1000]);
  writeFileSync(
    join(resultsDir, 'e2e-latency-over-time.svg'),
    scatterChart({
      title: `Release → message accepted, steady stream at ${rate} messages/s (two workers)`,
      xLabel: 'seconds since the stream started (release, or digest due)',
      yLabel: 'latency (s)',
      series: [
        { name: 'immediate: release → accepted', colour: '#1f77b4', points: steady },
        { name: 'digest: due → accepted', colour: '#ff7f0e', points: digests },
      ],
      lines: [{ label: 'goal 1 s', value: GOAL_SECONDS, colour: '#d62728' }],
      yCap: 5,
    }),
  );
  const lat = steady.map((p) => p[1]);
  const s = stats(lat);
  const f = stats(first.map((p) => p[1]));
  writeFileSync(
    join(resultsDir, 'e2e-latency-histogram.svg'),
    histogram({
      title: 'Immediate messages, steady stream: release → accepted',
      xLabel: 'seconds',
      values: lat,
      bin: 0.025,
      colour: '#1f77b4',
      markers: [
        { label: `p50 ${s.p50} s`, value: s.p50 ?? 0, colour: '#2ca02c' },
        { label: `p99 ${s.p99} s`, value: s.p99 ?? 0, colour: '#9467bd' },
        { label: `first burst p95 ${f.p95} s`, value: f.p95 ?? 0, colour: '#8c564b' },
        { label: 'goal 1 s', value: GOAL_SECONDS, colour: '#d62728' },
      ],
    }),
  );
}
