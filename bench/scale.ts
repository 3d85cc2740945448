/**
 * `npm run bench -- scale [--watches 5000] [--slots 1000] [--digest-seconds 60] [--shards 3]
 *  [--cluster | --no-cluster]`: does slotwatch grow by adding worker processes? The burst of
 * the digest work (bench/burst.ts: `--slots` slots released at once at the real DVSA centres,
 * watches placed like real learners, digests on) is run three times on the same database
 * state: with ONE worker process, with TWO, and with two on a Redis Cluster (three masters,
 * a replica each, DELIVERY_SHARDS=`--shards`). As in bench/e2e.ts the web and workers run
 * from the built code (dist/), slots are released as an operator does it (one
 * POST /api/operator/slots), watches are 70% email and 30% push, and the SMTP and push
 * receivers run in a child process of their own (bench/_receivers.ts). Each phase has a
 * Redis of its own (a redis-server started here, or the cluster), so Redis's CPU is this
 * bench's alone, and a queue prefix of its own.
 *
 * Each worker process signs what it sends with its own identity (MAIL_FROM and
 * VAPID_SUBJECT), so the receivers say which process sent each message: throughput per
 * process. CPU seconds are read per process (bench/_cpu.ts: /proc for the workers, the web,
 * the receivers and this process, the PostgreSQL backends of the bench's database, INFO cpu
 * of each Redis node), before the burst for `IDLE_SECONDS` (the idle baseline: schedulers,
 * heartbeats, polling) and over the burst; CPU per message is the burst's CPU less the idle
 * rate over the same seconds, divided by the messages sent.
 *
 * Throughput is over the seconds the pipeline had work: from the release to the last
 * message, less the wait for the digest window when nothing was left to send before the
 * first digest fell due (that wait is the window by design, not capacity).
 *
 * The cluster phase runs where dev/redis-cluster.ts can start a cluster (redis-server
 * and redis-cli 5 or later), and says why not in the results where it cannot; `--cluster`
 * makes that an error, `--no-cluster` leaves the phase out. A worker process both matches
 * and sends: its CPU per message sent includes its share of the matching.
 *
 * Figures go to bench/results/scale.json and scale.md; process logs to bench/results/logs/.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import webpush from 'web-push';
import { hashPassword } from '../src/accounts/passwords.js';
import { createUser } from '../src/accounts/users.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { withDatabase } from '../src/db/urls.js';
import { Api } from '../src/demo/api.js';
import { log } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import type { TestSubscription } from '../dev/push-receiver.js';
import { insertCenters, loadCenters, prng } from '../dev/centers.js';
import { stopChildren, waitForQuietPipeline } from '../dev/pipeline.js';
import { redisClusterUnavailable, startRedisCluster } from '../dev/redis-cluster.js';
import { freePort, startOwnRedis } from '../dev/redis-server.js';
import { arg } from './_args.js';
import { BackendCpu, processCpuSeconds, selfCpuSeconds } from './_cpu.js';
import { ensureBuilt, loopEnv, startBuilt } from './_processes.js';
import { startReceivers } from './_receivers-ipc.js';
import { createPickTables, WATCHES_SQL } from './match.js';

const IDLE_SECONDS = 5;
const resultsDir = join(projectRoot, 'bench', 'results');
const logsDir = join(resultsDir, 'logs');

/** A phase's Redis: where the processes connect, and how to read the CPU of each of its servers. */
interface PhaseRedis {
  url: string;
  /** Loopback ports of every redis-server of it (a cluster's masters and replicas alike). */
  ports: number[];
  close(): Promise<void>;
}

async function ownRedis(): Promise<PhaseRedis> {
  const r = await startOwnRedis();
  return { url: r.url, ports: [r.port], close: () => r.dispose() };
}

/** The cluster the tests run on (dev/redis-cluster.ts): three masters with a replica each. */
async function clusterRedis(): Promise<PhaseRedis> {
  const c = await startRedisCluster();
  return { url: c.url, ports: c.nodes.map((n) => n.port), close: () => c.close() };
}

/** CPU seconds of each Redis server (INFO cpu: the server's own user + system time). */
async function redisCpu(ports: number[]): Promise<number[]> {
  return Promise.all(
    ports.map(async (port) => {
      const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await r.connect();
        const info = await r.info('cpu');
        const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
        return field('used_cpu_sys') + field('used_cpu_user');
      } finally {
        r.disconnect();
      }
    }),
  );
}

const r3 = (x: number) => +x.toFixed(3);

/** The CPU seconds of every part at one moment (the backends are counted apart, by BackendCpu). */
interface Snapshot {
  at: number;
  workers: number[];
  web: number;
  receivers: number;
  redis: number[];
  bench: number;
}

interface PhaseFigures {
  phase: string;
  workers: number;
  redis: string;
  deliveryShards: number | null;
  slots: number;
  alerts: number;
  learnersTold: number;
  messages: { total: number; single: number; digest: number; email: number; push: number };
  seconds: { releaseToLastMessage: number; waitingForDigestWindow: number; busy: number; matching: number };
  messagesPerSecond: number;
  matchesPerSecond: number;
  perWorker: { messages: number; messagesPerSecond: number; cpuSeconds: number; cpuMsPerMessage: number }[];
  /** CPU seconds over the burst, as read. */
  cpuSeconds: Record<string, number>;
  /** CPU seconds per second when idle, measured just before the burst. */
  idleCpuPerSecond: Record<string, number>;
  /** (burst CPU - idle rate x burst seconds) / messages, in milliseconds. */
  cpuMsPerMessage: Record<string, number>;
  /** Of the burst's CPU (net of idle), the share of each part. */
  cpuShare: Record<string, number>;
  redisCpuSecondsPerNode: number[];
  /** pg_total_relation_size over rows, after the burst. */
  bytesPerAlert: number;
  bytesPerMessage: number;
  missing: number;
}

export default async function main(args: string[]): Promise<void> {
  const watchCount = Number(arg(args, '--watches', '5000'));
  const slotCount = Number(arg(args, '--slots', '1000'));
  const digestSeconds = Number(arg(args, '--digest-seconds', '60'));
  const shards = Number(arg(args, '--shards', '3'));
  for (const [name, v] of Object.entries({ watches: watchCount, slots: slotCount, 'digest-seconds': digestSeconds, shards })) {
    if (!Number.isInteger(v) || v < (name === 'digest-seconds' ? 0 : 1)) throw new Error(`scale: --${name} must be a whole number${name === 'digest-seconds' ? '' : ' of 1 or more'}`);
  }
  if (slotCount > 1000) throw new Error('scale: --slots must be at most 1000 (one operator request)');
  const unavailable = args.includes('--no-cluster') ? undefined : redisClusterUnavailable();
  if (args.includes('--cluster') && unavailable) throw new Error(`scale: --cluster cannot run here: ${unavailable}`);
  const runCluster = !args.includes('--no-cluster') && !unavailable;
  const clusterSkipped = runCluster ? null : (unavailable ?? 'not asked for (--no-cluster)');

  log.level = 'warn';
  const loadAtStart = loadavg().map((l) => +l.toFixed(2));
  const startedAt = new Date().toISOString();
  mkdirSync(logsDir, { recursive: true });
  ensureBuilt('scale');

  const adminUrl = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const database = `sw_bench_scale_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabase(adminUrl, database);
  const pool = createPool(url, { max: 4, applicationName: 'slotwatch-bench-scale' });
  const vapid = webpush.generateVAPIDKeys();
  const receivers = startReceivers();
  const logFile = join(logsDir, 'scale-processes.log');
  const logStream = createWriteStream(logFile);
  const children: ChildProcess[] = [];
  let redis: PhaseRedis | undefined;
  try {
    const { smtpUrl } = await receivers.call<{ smtpUrl: string }>('start', { vapidPublicKey: vapid.publicKey });
    await migrate({ databaseUrl: url, direction: 'up' });

    // ---- the world, as bench/burst.ts and bench/e2e.ts make it
    const { centers: rows, real } = loadCenters();
    await insertCenters(pool, rows);
    const { rows: examiners } = await pool.query<{ id: string; center_id: string }>(
      `INSERT INTO specialists (full_name, service_type, center_id) SELECT 'Examiner at ' || name, 'driving examiner', id FROM test_centers RETURNING id, center_id`,
    );
    const examinerAt = new Map(examiners.map((e) => [e.center_id, e.id]));
    console.log(`bench scale: ${rows.length} ${real ? 'DVSA' : 'generated'} centres, ${watchCount.toLocaleString()} watches (70% email, 30% push), ${slotCount} slots; seeding`);
    await createPickTables(pool);
    const users = Math.round(watchCount * 0.8);
    await pool.query(`INSERT INTO bench_users (n, id) SELECT g, gen_random_uuid() FROM generate_series(1, $1::int) g`, [users]);
    await pool.query(`INSERT INTO users (id, email, password_hash, email_verified_at) SELECT id, 'learner' || n || '@bench.example', 'x', now() FROM bench_users`);
    for (let from = 1; from <= watchCount; from += 100_000) await pool.query(WATCHES_SQL, [from, Math.min(watchCount, from + 99_999), users]);
    const { rows: pushUsers } = await pool.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM user_preferences WHERE notification_method = 'push'`);
    const subs = await receivers.call<TestSubscription[]>('subscribe', { n: pushUsers.length });
    await pool.query(`INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])`, [
      pushUsers.map((u) => u.user_id),
      subs.map((s) => s.endpoint),
      subs.map((s) => s.keys.p256dh),
      subs.map((s) => s.keys.auth),
    ]);
    const operatorPassword = 'bench-operator-password';
    await createUser(pool, { email: 'operator@bench.example', passwordHash: await hashPassword(operatorPassword), role: 'OPERATOR' });
    await pool.query(`INSERT INTO system_config (key, value) VALUES ('alert_digest_seconds', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [
      JSON.stringify(digestSeconds),
    ]);
    await pool.query('VACUUM ANALYZE');

    // the burst: the same slots in every phase, at centres drawn as the watches were (busier
    // centres more often), 85% practical, over six months of working hours, one examiner
    // never twice at one hour
    const { rows: picks } = await pool.query<{ center_id: string }>(`SELECT center_id FROM bench_pick ORDER BY rn`);
    const rand = prng(17);
    const used = new Set<string>();
    const burstSlots: { specialistId: string; testType: string; startTime: string; endTime: string }[] = [];
    while (burstSlots.length < slotCount) {
      const centre = picks[Math.floor(rand() * picks.length)]!.center_id;
      const day = Math.floor(rand() * 180);
      const hour = 9 + Math.floor(rand() * 8);
      if (used.has(`${centre}/${day}/${hour}`)) continue;
      used.add(`${centre}/${day}/${hour}`);
      const start = new Date(Date.UTC(2031, 0, 1 + day, hour));
      burstSlots.push({
        specialistId: examinerAt.get(centre)!,
        testType: rand() < 0.85 ? 'practical' : 'theory',
        startTime: start.toISOString(),
        endTime: new Date(start.getTime() + 57 * 60_000).toISOString(),
      });
    }

    const phases: { name: string; workers: number; cluster: boolean }[] = [
      { name: 'one worker', workers: 1, cluster: false },
      { name: 'two workers', workers: 2, cluster: false },
      ...(runCluster ? [{ name: `two workers, Redis Cluster (3 masters + 3 replicas), DELIVERY_SHARDS=${shards}`, workers: 2, cluster: true }] : []),
    ];
    const results: PhaseFigures[] = [];
    for (const [index, phase] of phases.entries()) {
      console.log(`\n== ${phase.name}`);
      // the same database state each time: no slots, alerts, messages or releases
      await pool.query(`TRUNCATE user_alerts, alert_messages, slot_releases`);
      await pool.query(`DELETE FROM time_slots`);
      await pool.query('VACUUM ANALYZE user_alerts, alert_messages, slot_releases, time_slots');
      redis = phase.cluster ? await clusterRedis() : await ownRedis();
      const prefix = `sw-bench-scale-${process.pid}-${index}`;
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...loopEnv({ databaseUrl: url, redisUrl: redis.url, queuePrefix: prefix, port, smtpUrl, vapid }),
        ...(phase.cluster ? { DELIVERY_SHARDS: String(shards) } : {}),
      };
      const web = startBuilt('workers/web.js', env, logStream);
      children.push(web);
      const api = new Api(`http://127.0.0.1:${port}`);
      await api.waitUntilReady();
      const token = await api.login('operator@bench.example', operatorPassword);
      const workers: ChildProcess[] = [];
      let started = 0;
      const allStarted = new Promise<void>((resolve) => {
        for (let i = 0; i < phase.workers; i++) {
          // each process signs with its own name: the receivers say who sent what
          const w = startBuilt('workers/worker.js', { ...env, MAIL_FROM: `slotwatch <worker-${i + 1}@slotwatch.bench>`, VAPID_SUBJECT: `mailto:worker-${i + 1}@slotwatch.bench` }, logStream, (line) => {
            if (line.includes('"worker started"') && ++started === phase.workers) resolve();
          });
          workers.push(w);
          children.push(w);
        }
      });
      await Promise.race([allStarted, sleep(60_000).then(() => Promise.reject(new Error('scale: the workers did not start within 60 s')))]);

      const ports = redis.ports;
      const snapshot = async (): Promise<Snapshot> => ({
        at: Date.now(),
        workers: workers.map((w) => processCpuSeconds(w.pid)),
        web: processCpuSeconds(web.pid),
        receivers: processCpuSeconds(receivers.child.pid),
        redis: await redisCpu(ports),
        bench: selfCpuSeconds().own,
      });
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const parts = (a: Snapshot, b: Snapshot, pgSeconds: number): Record<string, number> => ({
        ...Object.fromEntries(workers.map((_, i) => [`worker ${i + 1}`, b.workers[i]! - a.workers[i]!])),
        web: b.web - a.web,
        postgres: pgSeconds,
        redis: sum(b.redis) - sum(a.redis),
        receivers: b.receivers - a.receivers,
        bench: b.bench - a.bench,
      });

      // the idle baseline: the same processes with nothing to do
      await sleep(1000);
      const pgIdle = new BackendCpu(database);
      pgIdle.start();
      const idle0 = await snapshot();
      await sleep(IDLE_SECONDS * 1000);
      const idle1 = await snapshot();
      const idleParts = parts(idle0, idle1, pgIdle.stop());
      const idleSeconds = (idle1.at - idle0.at) / 1000;

      // the burst
      const before = await receivers.call<{ push: number; email: number }>('counts');
      const pgBurst = new BackendCpu(database);
      pgBurst.start();
      const s0 = await snapshot();
      const releasedAt = Date.now();
      await api.publishSlots(token, burstSlots);
      await waitForQuietPipeline(pool, (digestSeconds + 600) * 1000, { digests: true, what: `scale (${phase.name})` });
      const s1 = await snapshot();
      const burstParts = parts(s0, s1, pgBurst.stop());
      const burstSeconds = (s1.at - s0.at) / 1000;

      const sent = await receivers.call<[string, number][]>('senders', { email: before.email, push: before.push });
      const after = await receivers.call<{ push: number; email: number }>('counts');
      const { rows: db } = await pool.query<{ alerts: number; learners: number; single: number; digest: number; first_due: Date | null; matched: Date | null; unsent: number; alert_bytes: number; message_bytes: number }>(
        `SELECT (SELECT count(*)::int FROM user_alerts) AS alerts,
                (SELECT count(DISTINCT user_id)::int FROM user_alerts) AS learners,
                (SELECT count(*)::int FROM alert_messages WHERE status = 'SENT' AND kind = 'single') AS single,
                (SELECT count(*)::int FROM alert_messages WHERE status = 'SENT' AND kind = 'digest') AS digest,
                (SELECT min(send_after) FROM alert_messages WHERE kind = 'digest') AS first_due,
                (SELECT max(processed_at) FROM slot_releases) AS matched,
                (SELECT count(*)::int FROM alert_messages WHERE status <> 'SENT') AS unsent,
                -- what an alert costs on disk, indexes and TOAST included: the capacity model's storage
                pg_total_relation_size('user_alerts')::float8 AS alert_bytes,
                pg_total_relation_size('alert_messages')::float8 AS message_bytes`,
      );
      const d = db[0]!;
      const times = sent.map(([, at]) => at).sort((a, b) => a - b);
      const last = times.at(-1) ?? releasedAt;
      const firstDue = d.first_due ? d.first_due.getTime() : null;
      // nothing to send between the last message before the first digest fell due and that moment
      const lastBeforeDue = firstDue === null ? last : (times.filter((t) => t < firstDue).at(-1) ?? releasedAt);
      const waiting = firstDue === null ? 0 : Math.max(0, firstDue - lastBeforeDue) / 1000;
      const releaseToLast = (last - releasedAt) / 1000;
      const busy = Math.max(0.001, releaseToLast - waiting);
      const matching = d.matched ? Math.max(0.001, (d.matched.getTime() - releasedAt) / 1000) : NaN;
      const messages = sent.length;
      const net = Object.fromEntries(
        Object.entries(burstParts).map(([k, v]) => [k, Math.max(0, v - (idleParts[k]! / idleSeconds) * burstSeconds)]),
      );
      const netTotal = sum(Object.values(net));
      const netOf = (k: string) => net[k] ?? 0;
      const perWorker = workers.map((_, i) => {
        const mine = sent.filter(([who]) => who === `worker-${i + 1}@slotwatch.bench` || who === `mailto:worker-${i + 1}@slotwatch.bench`).length;
        return {
          messages: mine,
          messagesPerSecond: +(mine / busy).toFixed(1),
          cpuSeconds: r3(burstParts[`worker ${i + 1}`]!),
          cpuMsPerMessage: mine ? r3((netOf(`worker ${i + 1}`) * 1000) / mine) : NaN,
        };
      });
      const workerNet = sum(workers.map((_, i) => netOf(`worker ${i + 1}`)));
      const cpuMsPerMessage = Object.fromEntries(
        [...Object.entries(net), ['workers (all)', workerNet] as const, ['total', netTotal] as const].map(([k, v]) => [k, messages ? r3((v * 1000) / messages) : NaN]),
      );
      const f: PhaseFigures = {
        phase: phase.name,
        workers: phase.workers,
        redis: phase.cluster ? `cluster, ${ports.length} nodes` : 'one redis-server',
        deliveryShards: phase.cluster ? shards : null,
        slots: slotCount,
        alerts: d.alerts,
        learnersTold: d.learners,
        messages: { total: messages, single: d.single, digest: d.digest, email: after.email - before.email, push: after.push - before.push },
        seconds: { releaseToLastMessage: r3(releaseToLast), waitingForDigestWindow: r3(waiting), busy: r3(busy), matching: r3(matching) },
        messagesPerSecond: +(messages / busy).toFixed(1),
        matchesPerSecond: Math.round(d.alerts / matching),
        perWorker,
        cpuSeconds: Object.fromEntries(Object.entries(burstParts).map(([k, v]) => [k, r3(v)])),
        idleCpuPerSecond: Object.fromEntries(Object.entries(idleParts).map(([k, v]) => [k, r3(v / idleSeconds)])),
        cpuMsPerMessage,
        cpuShare: Object.fromEntries(Object.entries(net).map(([k, v]) => [k, netTotal ? +(v / netTotal).toFixed(3) : NaN])),
        redisCpuSecondsPerNode: s1.redis.map((v, i) => r3(v - s0.redis[i]!)),
        bytesPerAlert: d.alerts ? Math.round(d.alert_bytes / d.alerts) : NaN,
        bytesPerMessage: d.single + d.digest ? Math.round(d.message_bytes / (d.single + d.digest)) : NaN,
        missing: d.unsent + (d.single + d.digest - messages),
      };
      results.push(f);
      console.log(
        `  ${f.alerts} alerts (${f.matchesPerSecond}/s matched), ${messages} messages (${d.single} single, ${d.digest} digests) in ${f.seconds.busy} s busy ` +
          `(${f.seconds.releaseToLastMessage} s release to last, ${f.seconds.waitingForDigestWindow} s waiting for the digest window): ${f.messagesPerSecond} messages/s; ` +
          `per worker ${perWorker.map((w) => `${w.messages} (${w.messagesPerSecond}/s, ${w.cpuMsPerMessage} ms CPU each)`).join(', ')}`,
      );
      console.log(`  CPU ms per message: ${Object.entries(cpuMsPerMessage).map(([k, v]) => `${k} ${v}`).join(', ')}`);

      await stopChildren([...workers, web], 20_000);
      await redis.close();
      redis = undefined;
    }

    // ---- ratios, measured in this run
    const [one, two, cluster] = results as [PhaseFigures, PhaseFigures, PhaseFigures | undefined];
    const ratio = (a: number, b: number) => (b ? +(a / b).toFixed(2) : NaN);
    const ratios = {
      twoVsOne: {
        messagesPerSecond: ratio(two.messagesPerSecond, one.messagesPerSecond),
        matchesPerSecond: ratio(two.matchesPerSecond, one.matchesPerSecond),
        busySeconds: ratio(two.seconds.busy, one.seconds.busy),
        workerCpuMsPerMessage: ratio(two.cpuMsPerMessage['workers (all)']!, one.cpuMsPerMessage['workers (all)']!),
      },
      ...(cluster
        ? {
            clusterVsTwo: {
              messagesPerSecond: ratio(cluster.messagesPerSecond, two.messagesPerSecond),
              matchesPerSecond: ratio(cluster.matchesPerSecond, two.matchesPerSecond),
              redisCpuMsPerMessage: ratio(cluster.cpuMsPerMessage.redis!, two.cpuMsPerMessage.redis!),
            },
          }
        : {}),
    };
    const command = `npm run bench -- scale ${args.join(' ')}`.trim();
    const result = {
      when: startedAt,
      finished: new Date().toISOString(),
      command,
      machine: { cpus: cpus().length, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((l) => +l.toFixed(2)) },
      centres: real ? 'DVSA' : 'generated',
      watches: watchCount,
      learners: users,
      pushSubscriptions: subs.length,
      slots: slotCount,
      digestSeconds,
      idleSeconds: IDLE_SECONDS,
      measuring:
        'messages/s over the busy seconds (release to last message accepted, less the wait for the digest window with nothing to send); ' +
        'matches/s: alerts written over the seconds from the release to the last release matched; CPU from /proc (workers, web, receivers, this process), ' +
        "the PostgreSQL backends of the bench's database (not the server's shared WAL writer and checkpointer), and INFO cpu of every Redis node; " +
        'CPU per message is net of the idle rate measured just before each burst.',
      clusterPhase: cluster ? 'run' : `not run: ${clusterSkipped}`,
      phases: results,
      ratios,
    };
    writeFileSync(join(resultsDir, 'scale.json'), JSON.stringify(result, null, 2) + '\n');
    const md = markdown(result, results);
    writeFileSync(join(resultsDir, 'scale.md'), md);
    console.log('\n' + md);
    console.log(`process logs: ${logFile}`);
  } finally {
    await stopChildren(children, 20_000);
    await redis?.close().catch(() => {});
    logStream.end();
    await receivers.call('close').catch(() => {});
    if (receivers.child.connected) receivers.child.kill();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

function markdown(
  result: { when: string; command: string; machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[] }; watches: number; learners: number; slots: number; digestSeconds: number; clusterPhase: string; ratios: Record<string, Record<string, number>>; centres: string },
  phases: PhaseFigures[],
): string {
  const cols = phases.map((p) => p.phase);
  const row = (label: string, f: (p: PhaseFigures) => unknown) => `| ${label} | ${phases.map((p) => String(f(p))).join(' | ')} |`;
  const workerNames = [...new Set(phases.flatMap((p) => Object.keys(p.cpuSeconds).filter((k) => k.startsWith('worker '))))];
  const partNames = [...workerNames, 'workers (all)', 'web', 'postgres', 'redis', 'receivers', 'bench', 'total'];
  return [
    `# Scale: the digest burst with one worker process, two, and on a Redis Cluster`,
    '',
    `${result.when}, ${result.machine.cpus} CPUs (load average ${result.machine.loadAverageAtStart.join(' ')} at the start, ${result.machine.loadAverageAtEnd.join(' ')} at the end), ` +
      `${result.centres} centres, ${result.watches.toLocaleString()} watches (${result.learners.toLocaleString()} learners, 70% email, 30% push), ${result.slots} slots released in one operator request, ` +
      `digests every ${result.digestSeconds} s. Web and workers from dist/, receivers in a child process, a Redis of each phase's own. \`${result.command}\`.`,
    '',
    `Cluster phase: ${result.clusterPhase}.`,
    '',
    `| | ${cols.join(' | ')} |`,
    `| --- | ${cols.map(() => '---:').join(' | ')} |`,
    row('alerts written (matches)', (p) => p.alerts),
    row('learners told', (p) => p.learnersTold),
    row('messages (single + digest)', (p) => `${p.messages.total} (${p.messages.single} + ${p.messages.digest})`),
    row('email / push', (p) => `${p.messages.email} / ${p.messages.push}`),
    row('release → last message (s)', (p) => p.seconds.releaseToLastMessage),
    row('of which waiting for the digest window (s)', (p) => p.seconds.waitingForDigestWindow),
    row('busy seconds', (p) => p.seconds.busy),
    row('**messages/s** (over busy seconds)', (p) => `**${p.messagesPerSecond}**`),
    row('matching: release → last release matched (s)', (p) => p.seconds.matching),
    row('**matches/s**', (p) => `**${p.matchesPerSecond}**`),
    row('per worker: messages (messages/s)', (p) => p.perWorker.map((w) => `${w.messages} (${w.messagesPerSecond})`).join(', ')),
    row('per worker: CPU s over the burst', (p) => p.perWorker.map((w) => w.cpuSeconds).join(', ')),
    row('messages not sent', (p) => p.missing),
    row('bytes on disk per alert / per message (tables + indexes)', (p) => `${p.bytesPerAlert} / ${p.bytesPerMessage}`),
    '',
    'CPU milliseconds per message, net of the idle rate measured before each burst (bench = this process, releasing and polling):',
    '',
    `| part | ${cols.join(' | ')} |`,
    `| --- | ${cols.map(() => '---:').join(' | ')} |`,
    ...partNames.map((k) => row(k, (p) => p.cpuMsPerMessage[k] ?? '-')),
    '',
    'CPU seconds over the burst, as read (idle CPU per second in brackets):',
    '',
    `| part | ${cols.join(' | ')} |`,
    `| --- | ${cols.map(() => '---:').join(' | ')} |`,
    ...partNames.filter((k) => !['workers (all)', 'total'].includes(k)).map((k) => row(k, (p) => (p.cpuSeconds[k] === undefined ? '-' : `${p.cpuSeconds[k]} (${p.idleCpuPerSecond[k]})`))),
    row('Redis CPU s per node', (p) => p.redisCpuSecondsPerNode.join(', ')),
    '',
    `Ratios in this run: two workers vs one: messages/s ×${result.ratios.twoVsOne!.messagesPerSecond}, matches/s ×${result.ratios.twoVsOne!.matchesPerSecond}, ` +
      `worker CPU per message ×${result.ratios.twoVsOne!.workerCpuMsPerMessage}` +
      (result.ratios.clusterVsTwo
        ? `; cluster vs one Redis (two workers each): messages/s ×${result.ratios.clusterVsTwo.messagesPerSecond}, matches/s ×${result.ratios.clusterVsTwo.matchesPerSecond}, Redis CPU per message ×${result.ratios.clusterVsTwo.redisCpuMsPerMessage}.`
        : '.'),
    '',
    `On ${result.machine.cpus} cores shared by every process here (and PostgreSQL), a second worker process can only use CPU the first left idle: the ratio says how much was left, not how a second machine would do. The CPU per message is what carries to a bigger machine.`,
    '',
  ].join('\n');
}
