/**
 * `npm run bench -- burst [--watches 100000] [--slots 1000] [--digest-seconds 60]`: 1,000
 * slots released at once at the real DVSA centres against watches placed like real
 * learners (bench/match.ts's generator, email watches), with two real worker processes
 * (matching and the senders) and the local SMTP receiver. The same burst is run twice in
 * one go: with digests (alert_digest_seconds as given) and with digests off
 * (alert_digest_seconds = 0) as the baseline. For each it reports the learners affected,
 * alerts written, messages sent, messages per affected learner (mean and most), and the
 * time from the release to each affected learner's first message (p50, p95, max).
 * It creates its own database and queue prefix and removes both. Figures go to
 * bench/results/burst.json and bench/results/burst.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { withDatabase } from '../src/db/urls.js';
import { log } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import { createRedis, deleteQueuePrefixKeys } from '../src/queues/redis.js';
import { startSmtpReceiver, type SmtpReceiver } from '../dev/smtp-receiver.js';
import { insertCenters, loadCenters } from '../dev/centers.js';
import { waitForQuietPipeline } from '../dev/pipeline.js';
import { arg } from './_args.js';
import { createPickTables, WATCHES_SQL } from './match.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : null);
const round = (x: number | null) => (x === null ? null : +x.toFixed(2));

interface RunFigures {
  digestSeconds: number;
  learnersAffected: number;
  alerts: number;
  alertsByStatus: Record<string, number>;
  messagesSent: number;
  messagesByKind: Record<string, number>;
  messagesPerLearner: number;
  mostMessagesToOneLearner: number;
  learnersWithMoreThanTwo: number;
  firstMessageSeconds: { p50: number | null; p95: number | null; max: number | null };
  allDeliveredSeconds: number;
}

async function burst(pool: pg.Pool, smtp: SmtpReceiver, digestSeconds: number): Promise<RunFigures> {
  await pool.query(`INSERT INTO system_config (key, value) VALUES ('alert_digest_seconds', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [
    JSON.stringify(digestSeconds),
  ]);
  const before = smtp.arrivals.length;
  // every slot free at once: one transaction, one release each
  const t0 = Date.now();
  await pool.query(`UPDATE time_slots SET status = 'AVAILABLE' WHERE source = 'bench'`);
  await waitForQuietPipeline(pool, 30 * 60_000, { what: 'the burst' });
  const arrivals = smtp.arrivals.slice(before);
  const allDeliveredSeconds = arrivals.length ? (Math.max(...arrivals.map((a) => a.receivedAt)) - t0) / 1000 : 0;
  const first = new Map<string, number>();
  const per = new Map<string, number>();
  for (const a of arrivals) {
    const to = a.envelopeTo[0]!.toLowerCase();
    if (!first.has(to) || first.get(to)! > a.receivedAt) first.set(to, a.receivedAt);
    per.set(to, (per.get(to) ?? 0) + 1);
  }
  const firsts = [...first.values()].map((at) => (at - t0) / 1000).sort((a, b) => a - b);
  const { rows: a } = await pool.query<{ status: string; n: number }>(`SELECT status::text, count(*)::int AS n FROM user_alerts GROUP BY 1`);
  const { rows: m } = await pool.query<{ kind: string; n: number }>(`SELECT kind, count(*)::int AS n FROM alert_messages WHERE status = 'SENT' GROUP BY 1`);
  const { rows: l } = await pool.query<{ n: number }>(`SELECT count(DISTINCT user_id)::int AS n FROM user_alerts`);
  const learners = l[0]!.n;
  const counts = [...per.values()];
  return {
    digestSeconds,
    learnersAffected: learners,
    alerts: a.reduce((s, r) => s + r.n, 0),
    alertsByStatus: Object.fromEntries(a.map((r) => [r.status, r.n])),
    messagesSent: arrivals.length,
    messagesByKind: Object.fromEntries(m.map((r) => [r.kind, r.n])),
    messagesPerLearner: +(arrivals.length / Math.max(1, learners)).toFixed(2),
    mostMessagesToOneLearner: Math.max(0, ...counts),
    learnersWithMoreThanTwo: counts.filter((c) => c > 2).length,
    firstMessageSeconds: { p50: round(pct(firsts, 50)), p95: round(pct(firsts, 95)), max: round(firsts.at(-1) ?? null) },
    allDeliveredSeconds: +allDeliveredSeconds.toFixed(1),
  };
}

export default async function main(args: string[]): Promise<void> {
  const watches = Number(arg(args, '--watches', '100000'));
  const slotCount = Number(arg(args, '--slots', '1000'));
  const digestSeconds = Number(arg(args, '--digest-seconds', '60'));
  log.level = 'warn';
  const adminUrl = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const database = `sw_bench_burst_${process.pid}`;
  const prefix = `sw-bench-burst-${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabase(adminUrl, database);
  const pool = createPool(url, { max: 4, applicationName: 'slotwatch-bench-burst' });
  const smtp = await startSmtpReceiver({ parse: 'later' });
  const workers: ChildProcess[] = [];
  const logFile = join(projectRoot, 'bench', 'results', 'burst-workers.log');
  mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true });
  const logStream = createWriteStream(logFile);
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    const { centers: centres, real } = loadCenters();
    console.log(`bench burst: ${centres.length} ${real ? 'DVSA' : 'generated'} centres, ${watches.toLocaleString()} email watches, ${slotCount} slots`);
    await insertCenters(pool, centres);
    await createPickTables(pool);
    const users = Math.round(watches * 0.8);
    await pool.query(`INSERT INTO bench_users (n, id) SELECT g, gen_random_uuid() FROM generate_series(1, $1::int) g`, [users]);
    await pool.query(`INSERT INTO users (id, email, password_hash, email_verified_at) SELECT id, 'learner' || n || '@bench.example', 'x', now() FROM bench_users`);
    for (let from = 1; from <= watches; from += 100_000) await pool.query(WATCHES_SQL, [from, Math.min(watches, from + 99_999), users]);
    await pool.query(`UPDATE user_preferences SET notification_method = 'email'`);
    // the slots exist, held, before the workers start: the burst is their release
    await pool.query(
      `INSERT INTO time_slots (center_id, test_type, start_time, end_time, source, external_id, status)
       SELECT p.center_id, x.test_type, x.start_time, x.start_time + interval '57 minutes', 'bench', x.g::text, 'HOLD'
         FROM (SELECT g,
                      (CASE WHEN random() < 0.85 THEN 'practical' ELSE 'theory' END)::test_type AS test_type,
                      timestamptz '2031-01-01 09:00 Europe/London' + floor(random() * 180) * interval '1 day'
                        + floor(random() * 8) * interval '1 hour' AS start_time,
                      1 + floor(random() * (SELECT count(*) FROM bench_pick))::int AS pick
                 FROM generate_series(1, $1::int) g) x
         JOIN bench_pick p ON p.rn = x.pick`,
      [slotCount],
    );
    await pool.query(`VACUUM ANALYZE`);

    const env = {
      ...process.env,
      DATABASE_URL: url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      SMTP_URL: smtp.url,
      PUBLIC_BASE_URL: 'https://slotwatch.bench',
      DELIVERY_EMAIL_PER_SECOND: '100000',
      RELEASE_POLL_SECONDS: '1',
      LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'workers/worker.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.pipe(logStream, { end: false });
      child.stderr!.pipe(logStream, { end: false });
      workers.push(child);
    }
    await sleep(5000); // both workers up and idle

    const runs: RunFigures[] = [];
    for (const seconds of [digestSeconds, 0]) {
      console.log(`\n== burst with alert_digest_seconds = ${seconds}`);
      const r = await burst(pool, smtp, seconds);
      runs.push(r);
      console.log(
        `  ${r.learnersAffected.toLocaleString()} learners, ${r.alerts.toLocaleString()} alerts, ${r.messagesSent.toLocaleString()} messages ` +
          `(${r.messagesPerLearner} per learner, at most ${r.mostMessagesToOneLearner}); first message p50 ${r.firstMessageSeconds.p50} s, ` +
          `p95 ${r.firstMessageSeconds.p95} s, max ${r.firstMessageSeconds.max} s; all delivered after ${r.allDeliveredSeconds} s`,
      );
      // the same burst again from the start: slots held, no alerts or messages
      await pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE source = 'bench'`);
      await pool.query(`TRUNCATE user_alerts, alert_messages, slot_releases`);
    }
    const result = { when: new Date().toISOString(), centres: real ? 'DVSA' : 'generated', watches, slots: slotCount, workers: 2, runs };
    writeFileSync(join(projectRoot, 'bench', 'results', 'burst.json'), JSON.stringify(result, null, 2) + '\n');
    const [d, off] = runs as [RunFigures, RunFigures];
    const row = (label: string, f: (r: RunFigures) => unknown) => `| ${label} | ${String(f(d))} | ${String(f(off))} |`;
    const md = [
      `# Burst: ${slotCount.toLocaleString()} slots at once, ${watches.toLocaleString()} watches, two workers`,
      '',
      `${result.when}, ${result.centres} centres, email watches, local SMTP receiver. \`npm run bench -- burst --watches ${watches}\`.`,
      '',
      `| | digests (${digestSeconds} s) | digests off |`,
      '| --- | ---: | ---: |',
      row('learners affected', (r) => r.learnersAffected),
      row('alerts written', (r) => r.alerts),
      row('messages sent', (r) => r.messagesSent),
      row('messages per affected learner', (r) => r.messagesPerLearner),
      row('most messages to one learner', (r) => r.mostMessagesToOneLearner),
      row('learners sent more than 2', (r) => r.learnersWithMoreThanTwo),
      row('first message p50 (s)', (r) => r.firstMessageSeconds.p50),
      row('first message p95 (s)', (r) => r.firstMessageSeconds.p95),
      row('first message max (s)', (r) => r.firstMessageSeconds.max),
      row('last message (s)', (r) => r.allDeliveredSeconds),
      '',
    ].join('\n');
    writeFileSync(join(projectRoot, 'bench', 'results', 'burst.md'), md);
    console.log('\n' + md);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode !== null ? null : new Promise((r) => w.once('exit', r)))));
    logStream.end();
    await smtp.close();
    await pool.end();
    const redis = createRedis(redisUrl, 'worker');
    await deleteQueuePrefixKeys(redis, prefix).finally(() => redis.disconnect());
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
