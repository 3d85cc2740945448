/**
 * `npm run bench -- delivery [--push 5000] [--email 3000] [--paced-seconds 5] [--smtp-connections 10]`: the whole
 * delivery path (deliveries queue -> channel queue -> claim -> send -> mark SENT) against
 * the local receivers the tests use: a real SMTP server parsing every message, and a push
 * endpoint that verifies every VAPID JWT and decrypts every body. Both run in this process,
 * so their cost is counted against us. For each channel it reports
 *   - burst: every alert enqueued at once, messages accepted per second;
 *   - paced: alerts enqueued at half the burst rate, p50/p99 from enqueue to accepted;
 * beside BullMQ's own rate for no-op jobs on the same Redis in the same run (the ceiling
 * any BullMQ-based sender has here). Goals: 1,000 pushes/s and 500 emails/s.
 * It creates its own database and queue prefix and removes both. Figures go to
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
import { deliveryChannelsTask } from '../src/delivery/channels-task.js';
import { deliveryProcessor } from '../src/delivery/processor.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { log } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import { bullPrefix } from '../src/queues/names.js';
import { PRIORITY_BY_TIER } from '../src/queues/queues.js';
import { createRedis } from '../src/queues/redis.js';
import { startWorker } from '../src/worker/runtime.js';
import { startPushReceiver } from '../test/helpers/push-receiver.js';
import { startSmtpReceiver } from '../test/helpers/smtp-receiver.js';
import { withDatabase } from '../src/db/urls.js';
import { arg } from './_args.js';

const CONCURRENCY = 100;



const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** BullMQ's own rate on this Redis: `n` no-op jobs added in bulk, processed at our concurrency. */
async function bullmqNoopRate(redisUrl: string, prefix: string, n: number): Promise<number> {
  const connection = createRedis(redisUrl, 'worker');
  const queue = new Queue('bench-noop', { connection, prefix: bullPrefix(prefix) });
  let done = 0;
  const worker = new Worker('bench-noop', async () => undefined, { connection, prefix: bullPrefix(prefix), concurrency: CONCURRENCY, autorun: false });
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

interface Seeded {
  alertIds: string[];
  /** push: subscription id per alert; email: recipient per alert */
  keyOf: Map<string, string>;
}

/** `n` users, each with one watch, one free slot alert; push users get one live subscription. */
async function seed(pool: pg.Pool, n: number, method: 'email' | 'push', tag: string, subscribe: () => { id: string; endpoint: string; keys: { p256dh: string; auth: string } }): Promise<Seeded> {
  const { rows: centre } = await pool.query<{ id: string }>(
    `INSERT INTO test_centers (name, postcode, latitude, longitude) VALUES ($1, 'NW7 1AA', 51.6, -0.24) RETURNING id`,
    [`Bench ${tag}`],
  );
  const { rows } = await pool.query<{ alert_id: string; user_id: string; email: string }>(
    `WITH u AS (
       INSERT INTO users (email, password_hash, priority)
       SELECT 'bench-' || $2::text || '-' || g || '@bench.example', 'x', 'NORMAL' FROM generate_series(1, $1::int) g
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
    const subs = rows.map(() => subscribe());
    await pool.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])`,
      [rows.map((r) => r.user_id), subs.map((s) => s.endpoint), subs.map((s) => s.keys.p256dh), subs.map((s) => s.keys.auth)],
    );
    rows.forEach((r, i) => keyOf.set(r.alert_id, subs[i]!.id));
  } else {
    for (const r of rows) keyOf.set(r.alert_id, r.email);
  }
  return { alertIds: rows.map((r) => r.alert_id), keyOf };
}

export default async function main(args: string[]): Promise<void> {
  const pushN = Number(arg(args, '--push', '5000'));
  const emailN = Number(arg(args, '--email', '3000'));
  const pacedSeconds = Number(arg(args, '--paced-seconds', '5'));
  // pooled SMTP connections per worker: the product's default is 10 (SMTP_URL ?maxConnections=)
  const smtpConnections = Number(arg(args, '--smtp-connections', '10'));
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
  const smtp = await startSmtpReceiver();
  const push = await startPushReceiver(vapid.publicKey);
  const pool = createPool(url, { max: 4, applicationName: 'slotwatch-bench-delivery' });
  const producerRedis = createRedis(redisUrl, 'worker');
  const deliveries = new Queue('deliveries', { connection: producerRedis, prefix: bullPrefix(prefix) });
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    console.log(`delivery bench: ${pushN} pushes, ${emailN} emails (burst), then ${pacedSeconds} s paced per channel; concurrency ${CONCURRENCY}, ${smtpConnections} SMTP connections`);

    console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs (other work on this machine moves every figure; compare ratios)`);

    const config = {
      ...loadConfig({
        DATABASE_URL: url,
        REDIS_URL: redisUrl,
        SMTP_URL: `${smtp.url}?maxConnections=${smtpConnections}`,
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        PUSH_ALLOW_HTTP_ENDPOINTS: 'true',
        LOG_LEVEL: 'warn',
        DATABASE_POOL_MAX: '20',
        DELIVERY_CONCURRENCY: String(CONCURRENCY),
        // the limiter is measured elsewhere; here it must not be what caps the rate
        DELIVERY_EMAIL_PER_SECOND: '100000',
        DELIVERY_PUSH_PER_SECOND: '100000',
      }),
      QUEUE_PREFIX: prefix,
    };
    worker = await startWorker(config, { tasks: [deliveryChannelsTask], deliveryProcessor, deliveryConcurrency: CONCURRENCY });

    const accepted = (channel: 'push' | 'email') => (channel === 'push' ? push.delivered().length : smtp.messages.length);
    const acceptedAt = (channel: 'push' | 'email'): Map<string, number> =>
      channel === 'push'
        ? new Map(push.delivered().map((r) => [r.subscriptionId, r.receivedAt]))
        : new Map(smtp.messages.map((m) => [m.envelopeTo[0]!, m.receivedAt]));
    const results: Record<string, unknown> = {};

    for (const channel of ['push', 'email'] as const) {
      const n = channel === 'push' ? pushN : emailN;
      if (!n) continue;
      const subscribe = () => push.subscribe();
      // the baseline right before this channel's burst, so both see the same machine load
      const noopRate = await bullmqNoopRate(redisUrl, prefix, n);
      console.log(`BullMQ no-op jobs: ${round(noopRate)} jobs/s (${n} jobs, concurrency ${CONCURRENCY})`);
      // burst
      const burst = await seed(pool, n, channel, `${channel}-burst`, subscribe);
      const before = accepted(channel);
      const t0 = Date.now();
      for (let i = 0; i < burst.alertIds.length; i += 1000) {
        await deliveries.addBulk(
          burst.alertIds.slice(i, i + 1000).map((alertId) => ({ name: 'deliver', data: { alertId }, opts: { jobId: alertId, priority: PRIORITY_BY_TIER.NORMAL, removeOnComplete: true } })),
        );
      }
      await waitUntil(() => accepted(channel) - before >= n, `${channel} burst`, 600_000);
      const burstSeconds = (Date.now() - t0) / 1000;
      const burstRate = n / burstSeconds;
      const at = acceptedAt(channel);
      const burstLat = burst.alertIds.map((id) => at.get(burst.keyOf.get(id)!)! - t0);

      // paced at half the burst rate: latency without a backlog of our own making
      const rate = Math.max(10, Math.floor(burstRate / 2));
      const pacedN = Math.max(50, Math.round(rate * pacedSeconds));
      const paced = await seed(pool, pacedN, channel, `${channel}-paced`, subscribe);
      const enqueuedAt = new Map<string, number>();
      const before2 = accepted(channel);
      const start = Date.now();
      const tick = 20; // ms: enqueue in small batches to keep the offered rate even
      for (let i = 0; i < pacedN; ) {
        const due = Math.min(pacedN, Math.floor(((Date.now() - start) / 1000) * rate) + 1);
        const batch = paced.alertIds.slice(i, due);
        if (batch.length) {
          const now = Date.now();
          for (const id of batch) enqueuedAt.set(id, now);
          await deliveries.addBulk(batch.map((alertId) => ({ name: 'deliver', data: { alertId }, opts: { jobId: alertId, priority: PRIORITY_BY_TIER.NORMAL, removeOnComplete: true } })));
          i = due;
        } else {
          await new Promise((r) => setTimeout(r, tick));
        }
      }
      await waitUntil(() => accepted(channel) - before2 >= pacedN, `${channel} paced`, 600_000);
      const at2 = acceptedAt(channel);
      const lat = paced.alertIds.map((id) => at2.get(paced.keyOf.get(id)!)! - enqueuedAt.get(id)!);
      const { rows } = await pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM user_alerts GROUP BY status`);

      const goal = channel === 'push' ? 1000 : 500;
      results[channel] = {
        burst: { messages: n, seconds: round(burstSeconds, 2), perSecond: round(burstRate), lastAcceptedMs: Math.max(...burstLat) },
        paced: { offeredPerSecond: rate, messages: pacedN, p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), maxMs: Math.max(...lat) },
        bullmqNoopPerSecond: round(noopRate),
        loadAverage: round(loadavg()[0]!, 2),
        goalPerSecond: goal,
        ofGoal: round(burstRate / goal, 2),
        ofBullmqNoop: round(burstRate / noopRate, 3),
        alertStatuses: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
      };
      console.log(
        `${channel.padEnd(5)} burst ${n} in ${round(burstSeconds, 2)} s = ${round(burstRate)} msg/s ` +
          `(${round(burstRate / goal, 2)}x the ${goal}/s goal, ${round((burstRate / noopRate) * 100, 1)}% of BullMQ no-op); ` +
          `paced at ${rate}/s: p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms enqueue->accepted`,
      );
    }
    const { rows: retried } = await pool.query<{ attempts: number; n: string; err: string | null }>(
      `SELECT attempts, count(*) AS n, min(last_error) AS err FROM user_alerts GROUP BY attempts ORDER BY attempts`,
    );
    console.log(`attempts per alert: ${retried.map((r) => `${r.attempts}: ${r.n}${r.err ? ` (e.g. ${r.err})` : ''}`).join('; ')}`);
    const invalid = push.requests.filter((r) => !r.vapid.valid || r.payload === null).length;
    const duplicates = push.delivered().length - new Set(push.delivered().map((r) => r.subscriptionId)).size + (smtp.messages.length - new Set(smtp.messages.map((m) => m.envelopeTo[0])).size);
    console.log(`checks: ${invalid} push requests failed VAPID or decryption; ${duplicates} duplicate messages`);

    const dir = join(projectRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'delivery.json'),
      JSON.stringify({ when: new Date().toISOString(), cpus: cpus().length, concurrency: CONCURRENCY, smtpConnections, ...results, checks: { invalidPushRequests: invalid, duplicates } }, null, 2) + '\n',
    );
    console.log('written to bench/results/delivery.json');
  } finally {
    await worker?.close();
    await deliveries.obliterate({ force: true }).catch(() => {});
    await deliveries.close();
    for (const name of ['deliveries-email', 'deliveries-push', 'maintenance']) {
      const q = new Queue(name, { connection: producerRedis, prefix: bullPrefix(prefix) });
      await q.obliterate({ force: true }).catch(() => {});
      await q.close();
    }
    // anything else under the prefix (the worker's heartbeat keys, schedules)
    let cursor = '0';
    do {
      const [next, keys] = await producerRedis.scan(cursor, 'MATCH', `${bullPrefix(prefix)}*`, 'COUNT', 1000);
      if (keys.length) await producerRedis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    producerRedis.disconnect();
    await pool.end();
    await push.close();
    await smtp.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
