/**
 * `npm run bench -- delivery [--push 5000] [--email 3000] [--rounds 3] [--warmup 500] [--paced-seconds 5]
 *  [--smtp-connections 10] [--concurrency 100] [--rate-limit 100000]`: the whole delivery path, as the worker runs it
 * (the channel's deliveries queue -> claim -> send -> mark SENT), against the local
 * receivers the tests use: a real SMTP server and a push endpoint that verifies every
 * VAPID JWT. While messages arrive they do what the services they stand for do (a push
 * service cannot decrypt a body; a mail server stores the bytes); after the runs every
 * push body is decrypted and every email parsed and checked. The receivers run in a child
 * process (bench/_receivers.ts), so that their CPU is not taken from the sender, and every
 * message is counted and timed there, when the receiver accepts it. For each channel:
 *   - burst: every alert enqueued at once, messages accepted per second; after a warm-up
 *     burst that is not counted, `--rounds` bursts, each right after its own BullMQ no-op
 *     baseline, and the median reported;
 *   - paced: alerts enqueued at half the burst rate, p50/p99 from enqueue to accepted;
 *   - duplicates: messages accepted more than once for one alert (counted at the receiver);
 *   - CPU per message of this process, the receivers, Redis and PostgreSQL;
 * beside BullMQ's own rate for no-op jobs on the same Redis in the same run (the ceiling
 * any BullMQ-based sender has here). The per-channel rate limit it runs with is printed; it
 * is set high so that the limiter is not what is measured. Goals: 1,000 pushes/s and 500
 * emails/s. It creates its own database and queue prefix and removes both. Figures go to
 * bench/results/delivery.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import pg from 'pg';
import webpush from 'web-push';
import { loadConfig } from '../src/config.js';
import { enqueueAlerts } from '../src/alerts/deliveries.js';
import { deliveryChannelsTask } from '../src/jobs/tasks.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { log } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import { bullPrefix } from '../src/queues/names.js';

import { closeQueues, createQueues } from '../src/queues/queues.js';
import { createRedis, deleteQueuePrefixKeys } from '../src/queues/redis.js';
import { startWorker } from '../src/jobs/runtime.js';
import type { TestSubscription } from '../dev/push-receiver.js';
import { withDatabase } from '../src/db/urls.js';
import { arg } from './_args.js';
import { BackendCpu, redisCpuSeconds } from './_cpu.js';
import { startReceivers } from './_receivers-ipc.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** BullMQ's own rate on this Redis: `n` no-op jobs added in bulk, processed at our concurrency. */
async function bullmqNoopRate(redisUrl: string, prefix: string, n: number, concurrency: number): Promise<number> {
  const connection = createRedis(redisUrl, 'worker');
  const queue = new Queue('bench-noop', { connection, prefix: bullPrefix(prefix, 'bench-noop') });
  let done = 0;
  const worker = new Worker('bench-noop', async () => undefined, { connection, prefix: bullPrefix(prefix, 'bench-noop'), concurrency, autorun: false });
  worker.on('completed', () => done++);
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: 'noop', data: { alertId: `${i + k}` }, opts: { removeOnComplete: true } })));
  }
  const t0 = performance.now();
  void worker.run();
  await waitUntil(() => done >= n, 'no-op jobs', 300_000);
  const rate = n / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate;
}

interface Burst {
  messages: number;
  seconds: number;
  perSecond: number;
  bullmqNoopPerSecond: number;
  cpuMsPerMessage: { sender: number; receivers: number; redis: number; postgres: number };
}

/** Every seeded alert's user: the hand-off routes an alert to its user's queue shard. */
const userOfAlert = new Map<string, string>();

interface Seeded {
  alertIds: string[];
  /** push: subscription id per alert; email: recipient per alert */
  keyOf: Map<string, string>;
}

/** `n` users, each with one watch, one free slot alert; push users get one live subscription. */
async function seed(pool: pg.Pool, n: number, method: 'email' | 'push', tag: string, subscribe: (n: number) => Promise<TestSubscription[]>): Promise<Seeded> {
  const { rows: centre } = await pool.query<{ id: string }>(
    `INSERT INTO test_centers (name, postcode, latitude, longitude) VALUES ($1, 'NW7 1AA', 51.6, -0.24) RETURNING id`,
    [`Bench ${tag}`],
  );
  const { rows } = await pool.query<{ alert_id: string; user_id: string; email: string }>(
    `WITH u AS (
       INSERT INTO users (email, password_hash, priority, email_verified_at)
       SELECT 'bench-' || $2::text || '-' || g || '@bench.example', 'x', 'NORMAL', now() FROM generate_series(1, $1::int) g
       RETURNING id, email
     ), numbered AS (SELECT id, email, row_number() OVER () AS n FROM u),
     s AS (
       INSERT INTO time_slots (center_id, test_type, start_time, end_time)
       SELECT $3::uuid, 'practical', now() + interval '30 days' + g * interval '1 minute', now() + interval '30 days' + g * interval '1 minute' + interval '57 minutes'
         FROM generate_series(1, $1::int) g
       RETURNING id
     ), snum AS (SELECT id, row_number() OVER () AS n FROM s),
     w AS (
       INSERT INTO user_preferences (user_id, latitude, longitude, notification_method)
       SELECT id, 51.6, -0.25, $4::notification_method FROM numbered
       RETURNING id, user_id
     ), a AS (
       INSERT INTO user_alerts (user_id, slot_id, preference_id, distance_m)
       SELECT numbered.id, snum.id, w.id, 700 FROM numbered JOIN snum USING (n) JOIN w ON w.user_id = numbered.id
       RETURNING id, user_id
     )
     SELECT a.id AS alert_id, a.user_id, numbered.email FROM a JOIN numbered ON numbered.id = a.user_id`,
    [n, tag, centre[0]!.id, method],
  );
  const keyOf = new Map<string, string>();
  if (method === 'push') {
    const subs = await subscribe(rows.length);
    await pool.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])`,
      [rows.map((r) => r.user_id), subs.map((s) => s.endpoint), subs.map((s) => s.keys.p256dh), subs.map((s) => s.keys.auth)],
    );
    rows.forEach((r, i) => keyOf.set(r.alert_id, subs[i]!.id));
  } else {
    for (const r of rows) keyOf.set(r.alert_id, r.email);
  }
  for (const r of rows) userOfAlert.set(r.alert_id, r.user_id);
  return { alertIds: rows.map((r) => r.alert_id), keyOf };
}

export default async function main(args: string[]): Promise<void> {
  const pushN = Number(arg(args, '--push', '5000'));
  const emailN = Number(arg(args, '--email', '3000'));
  const pacedSeconds = Number(arg(args, '--paced-seconds', '5'));
  const rounds = Math.max(1, Number(arg(args, '--rounds', '3')));
  const warmupN = Number(arg(args, '--warmup', '500'));
  const concurrency = Number(arg(args, '--concurrency', '100'));
  // pooled SMTP connections per worker: the product's default (SMTP_URL ?maxConnections=)
  const smtpConnections = arg(args, '--smtp-connections', '');
  // BullMQ's limiter per channel queue: high, so that it is not what this measures
  const rateLimit = Number(arg(args, '--rate-limit', '100000'));
  log.level = 'warn';
  const adminUrl = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const database = `sw_bench_delivery_${process.pid}`;
  const prefix = `swbench-delivery-${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabase(adminUrl, database);
  const vapid = webpush.generateVAPIDKeys();
  const receivers = startReceivers();
  const { smtpUrl } = await receivers.call<{ smtpUrl: string }>('start', { vapidPublicKey: vapid.publicKey });
  const pool = createPool(url, { max: 4, applicationName: 'slotwatch-bench-delivery' });
  const producerRedis = createRedis(redisUrl, 'worker');
  const producer = createQueues(producerRedis, prefix);
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    const config = {
      ...loadConfig({
        DATABASE_URL: url,
        REDIS_URL: redisUrl,
        SMTP_URL: smtpConnections ? `${smtpUrl}?maxConnections=${smtpConnections}` : smtpUrl,
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        PUSH_ALLOW_LOCAL_ENDPOINTS: 'true',
        LOG_LEVEL: 'warn',
        DATABASE_POOL_MAX: '20',
        DELIVERY_CONCURRENCY: String(concurrency),
        DELIVERY_EMAIL_PER_SECOND: String(rateLimit),
        DELIVERY_PUSH_PER_SECOND: String(rateLimit),
      }),
      QUEUE_PREFIX: prefix,
    };
    worker = await startWorker(config, { tasks: [deliveryChannelsTask] });
    // what the running senders were actually given (system_config could override the environment)
    const settings = await worker.deps.settings.all();
    const limits = { email: settings.send_rate_email_per_second, push: settings.send_rate_push_per_second };
    console.log(
      `delivery bench: ${pushN} pushes, ${emailN} emails (burst), then ${pacedSeconds} s paced per channel; ` +
        `concurrency ${concurrency} per queue, SMTP pool ${smtpConnections || 'default'} connections, ` +
        `rate limit ${limits.push} pushes/s and ${limits.email} emails/s (BullMQ limiter per channel queue); receivers in a child process (bodies decrypted and emails parsed after the runs)`,
    );
    console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs (other work on this machine moves every figure; compare ratios)`);

    const counts = () => receivers.call<{ push: number; email: number; cpuMs: number }>('counts');
    const acceptedSince = (channel: 'push' | 'email', from: number) => receivers.call<[string, number][]>('accepted', { channel, from });
    const cpuNow = async () => ({ sender: process.cpuUsage(), receivers: (await counts()).cpuMs, redisSeconds: await redisCpuSeconds(producerRedis) });
    /** One job per alert on its channel's deliveries queue, by the matcher's own hand-off. */
    const enqueue = (alertIds: string[], channel: 'email' | 'push') =>
      enqueueAlerts(producer.deliveries, pool, alertIds.map((id) => ({ id, userId: userOfAlert.get(id)!, priority: 'NORMAL' as const, channel })), true);
    const results: Record<string, unknown> = {};
    // every message accepted, per alert key, across both phases: more than one is a duplicate
    const seen = new Map<string, number>();
    let duplicates = 0;

    for (const channel of ['push', 'email'] as const) {
      const n = channel === 'push' ? pushN : emailN;
      if (!n) continue;
      const subscribe = (k: number) => receivers.call<TestSubscription[]>('subscribe', { n: k });
      const accepted = async () => (await counts())[channel];
      // rounds: each a BullMQ no-op baseline, then a burst right after it, so that the two see
      // the same machine (this one's speed drifts by a third over minutes); the median counts
      const bursts: Burst[] = [];
      const burstAccepted: [string, number][] = [];
      const alertIds: string[] = [];
      const keyOf = new Map<string, string>();
      // a warm-up burst first, not counted: compiled code, open connections, as a running service has them
      if (warmupN) {
        const warm = await seed(pool, warmupN, channel, `${channel}-warmup`, subscribe);
        await pool.query('ANALYZE');
        const before = await accepted();
        await enqueue(warm.alertIds, channel);
        await waitUntil(async () => (await accepted()) - before >= warmupN, `${channel} warm-up`, 600_000, 10);
        alertIds.push(...warm.alertIds);
        for (const [k, v] of warm.keyOf) keyOf.set(k, v);
        burstAccepted.push(...(await acceptedSince(channel, before)));
      }
      for (let r = 0; r < rounds; r++) {
        const noopRate = await bullmqNoopRate(redisUrl, prefix, n, concurrency);
        const burst = await seed(pool, n, channel, `${channel}-burst-${r}`, subscribe);
        alertIds.push(...burst.alertIds);
        for (const [k, v] of burst.keyOf) keyOf.set(k, v);
        // a live database has current statistics (autovacuum analyses it); this one was filled a
        // moment ago, and with autovacuum off (as on this machine) nothing would analyse it: the
        // claim's joins were then planned for empty tables and cost PostgreSQL five times the CPU
        await pool.query('ANALYZE');
        const before = await accepted();
        const backends = new BackendCpu(database);
        backends.start();
        const cpu0 = await cpuNow();
        const t0 = Date.now();
        for (let i = 0; i < burst.alertIds.length; i += 1000) await enqueue(burst.alertIds.slice(i, i + 1000), channel);
        await waitUntil(async () => (await accepted()) - before >= n, `${channel} burst`, 600_000, 10);
        const seconds = (Date.now() - t0) / 1000;
        const cpu1 = await cpuNow();
        const postgresSeconds = backends.stop();
        burstAccepted.push(...(await acceptedSince(channel, before)));
        const b: Burst = {
          messages: n,
          seconds: round(seconds, 2),
          perSecond: round(n / seconds),
          bullmqNoopPerSecond: round(noopRate),
          cpuMsPerMessage: {
            sender: round((cpu1.sender.user + cpu1.sender.system - cpu0.sender.user - cpu0.sender.system) / 1000 / n, 3),
            receivers: round((cpu1.receivers - cpu0.receivers) / n, 3),
            redis: round(((cpu1.redisSeconds - cpu0.redisSeconds) * 1000) / n, 3),
            postgres: round((postgresSeconds * 1000) / n, 3),
          },
        };
        bursts.push(b);
        console.log(
          `${channel.padEnd(5)} round ${r + 1}: BullMQ no-op ${b.bullmqNoopPerSecond} jobs/s; burst ${n} in ${b.seconds} s = ${b.perSecond} msg/s accepted at the receiver; ` +
            `CPU ms per message: sender ${b.cpuMsPerMessage.sender}, receivers ${b.cpuMsPerMessage.receivers}, redis ${b.cpuMsPerMessage.redis}, postgres ${b.cpuMsPerMessage.postgres}`,
        );
      }
      const median = [...bursts].sort((x, y) => x.perSecond - y.perSecond)[Math.floor(bursts.length / 2)]!;
      const burstRate = median.perSecond;
      const noopRate = median.bullmqNoopPerSecond;
      const cpuPerMessage = median.cpuMsPerMessage;

      // paced at half the burst rate: latency without a backlog of our own making
      const rate = Math.max(10, Math.floor(burstRate / 2));
      const pacedN = Math.max(50, Math.round(rate * pacedSeconds));
      const paced = await seed(pool, pacedN, channel, `${channel}-paced`, subscribe);
      const enqueuedAt = new Map<string, number>();
      const before2 = await accepted();
      const start = Date.now();
      const tick = 20; // ms: enqueue in small batches to keep the offered rate even
      for (let i = 0; i < pacedN; ) {
        const due = Math.min(pacedN, Math.floor(((Date.now() - start) / 1000) * rate) + 1);
        const batch = paced.alertIds.slice(i, due);
        if (batch.length) {
          const now = Date.now();
          for (const id of batch) enqueuedAt.set(id, now);
          await enqueue(batch, channel);
          i = due;
        } else {
          await new Promise((r) => setTimeout(r, tick));
        }
      }
      await waitUntil(async () => (await accepted()) - before2 >= pacedN, `${channel} paced`, 600_000, 10);
      // a late duplicate would arrive after the count was reached: give it a moment
      await new Promise((r) => setTimeout(r, 500));
      const pacedAccepted = await acceptedSince(channel, before2);
      const firstAt = new Map<string, number>();
      for (const [key, at] of [...burstAccepted, ...pacedAccepted]) {
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (seen.get(key)! > 1) duplicates++;
        if (!firstAt.has(key)) firstAt.set(key, at);
      }
      const missing = [...alertIds, ...paced.alertIds].filter((id) => !firstAt.has(keyOf.get(id) ?? paced.keyOf.get(id)!)).length;
      const lat = paced.alertIds.map((id) => firstAt.get(paced.keyOf.get(id)!)! - enqueuedAt.get(id)!);
      const { rows } = await pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM user_alerts GROUP BY status`);

      const goal = channel === 'push' ? 1000 : 500;
      results[channel] = {
        // the median round's figures, and every round's
        burst: { messages: n, rounds: bursts.length, perSecond: burstRate, seconds: median.seconds, cpuMsPerMessage: cpuPerMessage, each: bursts },
        paced: { offeredPerSecond: rate, messages: pacedN, p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), maxMs: Math.max(...lat) },
        rateLimitPerSecond: limits[channel],
        bullmqNoopPerSecond: round(noopRate),
        loadAverage: round(loadavg()[0]!, 2),
        goalPerSecond: goal,
        ofGoal: round(burstRate / goal, 2),
        ofBullmqNoop: round(burstRate / noopRate, 3),
        missing,
        alertStatuses: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
      };
      console.log(
        `${channel.padEnd(5)} median of ${bursts.length} bursts: ${burstRate} msg/s accepted at the receiver ` +
          `(${round(burstRate / goal, 2)}x the ${goal}/s goal, ${round((burstRate / noopRate) * 100, 1)}% of BullMQ no-op in its round; rounds ${bursts.map((b) => b.perSecond).join(', ')}); ` +
          `paced at ${rate}/s: p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms enqueue->accepted`,
      );
      console.log(
        `      CPU ms per message in that burst: sender ${cpuPerMessage.sender}, receivers ${cpuPerMessage.receivers}, ` +
          `redis ${cpuPerMessage.redis}, postgres ${cpuPerMessage.postgres} (Redis: the whole server; PostgreSQL: the bench database's backends)` +
          (missing ? `; ${missing} alerts never arrived` : ''),
      );
    }
    const { rows: retried } = await pool.query<{ attempts: number; n: string; err: string | null }>(
      `SELECT attempts, count(*) AS n, min(last_error) AS err FROM user_alerts GROUP BY attempts ORDER BY attempts`,
    );
    console.log(`attempts per alert: ${retried.map((r) => `${r.attempts}: ${r.n}${r.err ? ` (e.g. ${r.err})` : ''}`).join('; ')}`);
    const checks = await receivers.call<{ invalidPush: number; decrypted: number; invalidEmail: number; parsed: number }>('checks');
    const invalid = checks.invalidPush;
    console.log(
      `checks (after the runs): ${checks.decrypted} push bodies decrypted, ${invalid} push requests failed VAPID or decryption; ` +
        `${checks.parsed} emails parsed, ${checks.invalidEmail} not as an alert should be; ${duplicates} duplicate messages (counted at the receivers)`,
    );

    const dir = join(projectRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'delivery.json'),
      JSON.stringify(
        {
          when: new Date().toISOString(),
          cpus: cpus().length,
          concurrency,
          smtpConnections: smtpConnections || 'default',
          receivers: 'child process; VAPID checked on receipt, bodies decrypted and emails parsed after the runs',
          ...results,
          checks: { pushDecrypted: checks.decrypted, invalidPushRequests: invalid, emailsParsed: checks.parsed, invalidEmails: checks.invalidEmail, duplicates },
        },
        null,
        2,
      ) + '\n',
    );
    console.log('written to bench/results/delivery.json');
  } finally {
    await worker?.close();
    await closeQueues(producer);
    // every key under the run's prefix: the queues, the worker's schedules and heartbeats
    await deleteQueuePrefixKeys(producerRedis, prefix);
    producerRedis.disconnect();
    await pool.end();
    await receivers.call('close').catch(() => {});
    if (receivers.child.connected) receivers.child.kill();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
