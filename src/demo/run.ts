/**
 * `npm run demo [-- --once]`: the whole loop on this machine. A fresh demo database with
 * built-in centres and a few hundred learners; the web and worker processes; a local SMTP
 * server and push endpoint standing in for the outside world; then a scenario — slots
 * published, a hold expiring, a booking cancelled — shown as it happens, and a summary.
 * With --once it exits 0 only if every expected alert arrived exactly once.
 *
 * `--database NAME` (default slotwatch_demo) and `--log-file PATH` (default
 * outbox/demo-processes.log) let two demos run side by side, as a test does beside a
 * person's own demo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import webpush from 'web-push';
import { expireHoldSoon } from '../booking/appointments.js';
import { loadConfigOrExit, newSecretKey } from '../config.js';
import { migrate } from '../db/migrate.js';
import { withTransaction } from '../db/transaction.js';
import { withDatabase } from '../db/urls.js';
import { projectRoot } from '../paths.js';
import { readSettings } from '../settings/settings.js';
import { updateSetting } from '../settings/update.js';
import { createRedis, deleteQueuePrefixKeys } from '../queues/redis.js';
import { startPushReceiver } from '../../dev/push-receiver.js';
import { stopChildren } from '../../dev/pipeline.js';
import { startSmtpReceiver } from '../../dev/smtp-receiver.js';
import { Api } from './api.js';
import { expectedRecipients } from './expected.js';
import { DEMO_ADMIN, DEMO_LEARNER_PASSWORD, DEMO_OPERATOR, seedDemo } from './seed.js';
import { Progress, type StepReport } from './progress.js';

const { values } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    learners: { type: 'string', default: '300' },
    database: { type: 'string', default: 'slotwatch_demo' },
    'log-file': { type: 'string' },
    'digest-seconds': { type: 'string' },
  },
});
const learnerCount = Number(values.learners);
if (!Number.isInteger(learnerCount) || learnerCount < 10 || learnerCount > 5000) {
  console.error('demo: --learners must be a whole number from 10 to 5000');
  process.exit(2);
}
// the demo drops this database and makes it anew: a name of its own family only (never
// the one DATABASE_URL names), and a plain identifier, so there is nothing to quote
if (!/^slotwatch_demo[a-z0-9_]{0,49}$/.test(values.database)) {
  console.error(`demo: --database must be slotwatch_demo followed by up to 49 lower-case letters, digits or underscores (it is dropped and made anew), not "${values.database}"`);
  process.exit(2);
}

// the product's digest window is a minute: a shorter one lets a test see the digests go out
// without waiting it out
const digestSeconds = values['digest-seconds'] === undefined ? undefined : Number(values['digest-seconds']);
if (digestSeconds !== undefined && (!Number.isInteger(digestSeconds) || digestSeconds < 0 || digestSeconds > 3600)) {
  console.error(`demo: --digest-seconds must be a whole number of seconds from 0 to 3600 (0 turns digests off), not "${values['digest-seconds']}"`);
  process.exit(2);
}

const config = loadConfigOrExit();
const started = Date.now();
const say = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${line}`);

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const { port: got } = s.address() as { port: number };
        s.close(() => resolve(got));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

// ---- a database of its own, every run ------------------------------------------------
const DEMO_DATABASE = values.database;
const demoUrl = withDatabase(config.DATABASE_URL, DEMO_DATABASE);
const admin = new pg.Client({ connectionString: withDatabase(config.DATABASE_URL, 'postgres') });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DEMO_DATABASE} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DEMO_DATABASE}`);
await admin.end();
await migrate({ databaseUrl: demoUrl, direction: 'up' });
say(`demo database ${DEMO_DATABASE} created and migrated`);

// ---- the outside world: a mail server and a push service -----------------------------
// the environment's keys when it gives them (a test then knows what to look for in the
// logs), else throwaway ones: a fresh machine has neither
const vapid = config.VAPID_PUBLIC_KEY && config.VAPID_PRIVATE_KEY ? { publicKey: config.VAPID_PUBLIC_KEY, privateKey: config.VAPID_PRIVATE_KEY } : webpush.generateVAPIDKeys();
const smtp = await startSmtpReceiver();
const push = await startPushReceiver(vapid.publicKey);
say(`local SMTP server on ${smtp.url}, push endpoint on ${push.origin}`);

const pool = new pg.Pool({ connectionString: demoUrl, max: 4 });
const userBySubscription = new Map<string, string>();
const seeded = await seedDemo(pool, learnerCount, (learner) => {
  const sub = push.subscribe();
  userBySubscription.set(sub.id, learner.userId);
  return sub;
});
say(`seeded ${seeded.centers.length} centres, ${seeded.learners.length} learners with watches (${seeded.learners.filter((l) => l.method === 'push').length} on push)`);
if (digestSeconds !== undefined) {
  // as an admin would change it, audited: the demo's admin is the actor
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [DEMO_ADMIN.email]);
  await withTransaction(pool, (tx) => updateSetting(tx, 'alert_digest_seconds', digestSeconds, { userId: rows[0]!.id }));
}
const digestWindow = (await readSettings(pool, config)).alert_digest_seconds.value as number;

// ---- web and worker, as the Procfile would run them -----------------------------------
const port = await freePort(config.PORT);
const base = `http://127.0.0.1:${port}`;
// the web process serves /metrics there, on localhost only (no METRICS_TOKEN in the demo)
const metricsPort = await freePort(9464);
const logDir = join(projectRoot, 'outbox');
mkdirSync(logDir, { recursive: true });
const logFile = values['log-file'] ? resolve(values['log-file']) : join(logDir, 'demo-processes.log');
mkdirSync(dirname(logFile), { recursive: true });
const logStream = createWriteStream(logFile);
const env = {
  ...process.env,
  DATABASE_URL: demoUrl,
  PORT: String(port),
  METRICS_PORT: String(metricsPort),
  PUBLIC_BASE_URL: base,
  QUEUE_PREFIX: `slotwatch-demo-${process.pid}`,
  SMTP_URL: smtp.url,
  // else a throwaway key for the demo's own processes (a fresh machine has no .env): it
  // keys only rate-limit counters and device cookies, which end with the demo anyway
  SECRET_KEY: config.SECRET_KEY ?? newSecretKey(),
  VAPID_PUBLIC_KEY: vapid.publicKey,
  VAPID_PRIVATE_KEY: vapid.privateKey,
  // the local push endpoint is plain http on loopback; real push services are https
  PUSH_ALLOW_LOCAL_ENDPOINTS: 'true',
  RELEASE_POLL_SECONDS: '2',
  HOLD_SWEEP_SECONDS: '1',
  LOG_LEVEL: 'info',
  CI: '1',
};
const children: ChildProcess[] = [];
function startEntry(entry: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(logStream, { end: false });
  child.stderr!.pipe(logStream, { end: false });
  children.push(child);
  return child;
}
const api = new Api(base);

async function stopAll(): Promise<void> {
  await stopChildren(children, 25_000);
  await Promise.all([smtp.close(), push.close(), pool.end(), forgetQueues()]);
  logStream.end();
}

/** The demo's queues and counters in Redis, under its own prefix: nothing is left behind. */
async function forgetQueues(): Promise<void> {
  const redis = createRedis(config.REDIS_URL, 'worker');
  try {
    await deleteQueuePrefixKeys(redis, env.QUEUE_PREFIX);
  } finally {
    redis.disconnect();
  }
}

let exitCode = 1;
try {
  startEntry('workers/web.ts');
  await api.waitUntilReady();
  say(`web process answering on ${base}`);

  // the bookings that already exist when the story starts: one slot held, one booked
  const operator = await api.login(DEMO_OPERATOR.email, DEMO_OPERATOR.password);
  const inTwoWeeks = (days: number, hour: number) => {
    const d = new Date();
    d.setUTCDate(d.getUTCDate() + 14 + days);
    d.setUTCHours(hour, 0, 0, 0);
    return d;
  };
  const slotAt = (center: (typeof seeded.centers)[number], examiner: number, start: Date, testType: 'practical' | 'theory') => ({
    specialistId: center.specialistIds[examiner]!,
    testType,
    startTime: start.toISOString(),
    endTime: new Date(start.getTime() + 57 * 60_000).toISOString(),
  });
  const byTown = (town: string) => seeded.centers.find((c) => c.town === town)!;
  const [heldSlot, bookedSlot] = await api.publishSlots(operator, [
    slotAt(byTown('Manchester'), 0, inTwoWeeks(1, 9), 'practical'),
    slotAt(byTown('London'), 0, inTwoWeeks(2, 10), 'practical'),
  ]);
  const holder = seeded.learners[0]!;
  const booker = seeded.learners[1]!;
  // the story names learners by account, not by address: the output is a log of the run
  const nameOf = (l: { email: string }) => l.email.split('@')[0]!;
  const holderToken = await api.login(holder.email, DEMO_LEARNER_PASSWORD);
  const bookerToken = await api.login(booker.email, DEMO_LEARNER_PASSWORD);
  const hold = await api.hold(holderToken, heldSlot!.id);
  const booking = await api.hold(bookerToken, bookedSlot!.id);
  await api.confirm(bookerToken, booking.id);
  say(`before the story: ${nameOf(holder)} holds a Manchester slot, ${nameOf(booker)} has booked a London one`);

  startEntry('workers/worker.ts');
  const progress = new Progress(pool, smtp, push, userBySubscription, seeded, say, digestWindow);
  await progress.waitForQuietPipeline();
  say('worker process running; the release poller is caught up');

  const steps: StepReport[] = [];
  const centersFor = new Map(seeded.centers.map((c) => [c.id, c]));
  const expect = (slots: { id: string; centerId: string; testType: 'practical' | 'theory' }[]) =>
    slots.flatMap((s) => expectedRecipients(seeded.learners, centersFor.get(s.centerId)!, s.testType).map((l) => ({ userId: l.userId, slotId: s.id })));

  // 1. an operator publishes new slots across the country
  const towns = ['London', 'Birmingham', 'Leeds', 'Glasgow', 'Bristol', 'Cardiff', 'Newcastle upon Tyne', 'Norwich'];
  const published = await api.publishSlots(
    operator,
    towns.flatMap((t, i) => [slotAt(byTown(t), 1, inTwoWeeks(3 + i, 9), 'practical'), slotAt(byTown(t), 1, inTwoWeeks(3 + i, 14), i % 2 ? 'theory' : 'practical')]),
  );
  say(`operator published ${published.length} slots in ${towns.length} towns`);
  steps.push(await progress.follow('slots published', published, expect(published)));

  // 2. the Manchester hold runs out: the sweep releases the slot
  await expireHoldSoon(pool, hold.id, 3);
  say(`${nameOf(holder)}'s hold is fast-forwarded to expire in 3 s (a real hold lasts ${config.HOLD_MINUTES} minutes)`);
  steps.push(await progress.follow('hold expired', [heldSlot!], expect([heldSlot!])));

  // 3. the London booking is cancelled
  await api.cancel(bookerToken, booking.id);
  say(`${nameOf(booker)} cancelled the London booking`);
  steps.push(await progress.follow('booking cancelled', [bookedSlot!], expect([bookedSlot!])));

  const ok = progress.summary(steps);
  const outDir = join(logDir, `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(outDir, { recursive: true });
  smtp.messages.forEach((m, i) => writeFileSync(join(outDir, `${String(i + 1).padStart(4, '0')}.eml`), m.raw));
  console.log(`
Where to look
  queue board   ${base}/admin/queues  (sign in as ${DEMO_ADMIN.email} / ${DEMO_ADMIN.password})
  metrics       http://127.0.0.1:${metricsPort}/metrics  (localhost only)
  emails        ${outDir} (${smtp.messages.length} .eml files as the SMTP server received them)
  process logs  ${logFile}`);
  exitCode = ok ? 0 : 1;
  if (!values.once) {
    console.log('\nweb and worker keep running; press Ctrl-C to stop.');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
} catch (err) {
  console.error(`demo: ${(err as Error).message}\n(process logs: ${logFile})`);
  exitCode = 1;
} finally {
  await stopAll();
}
process.exit(exitCode);
