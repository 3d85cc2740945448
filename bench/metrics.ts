/**
 * `npm run bench -- metrics [--small 10000] [--large 1000000] [--rounds 5] [--batches 20]`:
 * what a scrape's database work costs as the tables grow, and what counting as rows are
 * written costs the writers.
 *
 * 1. Scrape: the database collectors (src/metrics/collectors.ts, reading the counts) and,
 *    as the baseline, the queries they ran before the counts (count/GROUP BY over
 *    user_alerts, alert_messages, appointment_events and slot_releases, kept below), at
 *    --small and at --large alerts (with a tenth as many messages and a fifth as many
 *    booking events and releases). Median of --rounds scrapes each.
 * 2. Writers, at --large alerts, with the counting triggers on and, as the baseline, off
 *    (ALTER TABLE ... DISABLE TRIGGER), interleaved: a 1,000-row INSERT of alerts (what the
 *    matcher writes per batch) and single-alert UPDATEs PENDING -> SENDING -> SENT (what a
 *    sender writes per alert), each in its own transaction like theirs.
 *
 * Prints the figures and ratios; writes bench/results/metrics.json. It creates its own
 * database and drops it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { withDatabase } from '../src/db/urls.js';
import { databaseMetrics } from '../src/metrics/collectors.js';
import { foldMetricCounts } from '../src/metrics/counts.js';
import { projectRoot } from '../src/paths.js';
import { admin } from './_admin.js';
import { arg } from './_args.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number) => +x.toFixed(3);

// the scrape's queries before the counts (their histogram buckets shortened to two: the
// work is the scan and the join, not the FILTERs)
const OLD_SCRAPE_SQL = [
  `SELECT status::text, coalesce(channel::text, 'none') AS channel, count(*) AS n FROM user_alerts GROUP BY 1, 2`,
  `SELECT e.status::text, count(a.id) AS n FROM unnest(enum_range(NULL::alert_status)) AS e(status) LEFT JOIN user_alerts a ON a.status = e.status GROUP BY 1 ORDER BY 1`,
  `SELECT kind, status::text, coalesce(channel::text, 'none') AS channel, count(*) AS n FROM alert_messages GROUP BY 1, 2, 3`,
  `SELECT event_type, count(*) AS n FROM appointment_events GROUP BY 1`,
  `SELECT count(*) FILTER (WHERE seconds <= 0.5), count(*) FILTER (WHERE seconds <= 30), count(*), coalesce(sum(seconds), 0)
     FROM (SELECT extract(epoch FROM processed_at - released_at) AS seconds FROM slot_releases WHERE processed_at IS NOT NULL) s`,
  `SELECT count(*) FILTER (WHERE seconds <= 0.5), count(*) FILTER (WHERE seconds <= 30), count(*), coalesce(sum(seconds), 0)
     FROM (SELECT extract(epoch FROM coalesce(a.sent_at, m.sent_at) - a.created_at) AS seconds
             FROM user_alerts a LEFT JOIN alert_messages m ON m.id = a.message_id
            WHERE a.status = 'SENT' OR (a.status = 'DIGESTED' AND m.status = 'SENT')) s`,
];

const TRIGGERS: [string, string][] = [
  ['user_alerts', 'user_alerts_count_insert'],
  ['user_alerts', 'user_alerts_count_update'],
  ['user_alerts', 'user_alerts_count_delete'],
];

interface Seeded {
  userId: string;
  slotId: string;
  appointmentId: string;
  releases: number;
}

async function seed(pool: pg.Pool): Promise<Seeded> {
  const user = await pool.query<{ id: string }>(`INSERT INTO users (email, password_hash, role) VALUES ('metrics@bench.example', 'x', 'CLIENT') RETURNING id`);
  const center = await pool.query<{ id: string }>(`INSERT INTO test_centers (name, postcode, latitude, longitude) VALUES ('Bench', 'SW1A 1AA', 51.5, -0.12) RETURNING id`);
  const specialist = await pool.query<{ id: string }>(`INSERT INTO specialists (full_name, service_type, center_id) VALUES ('Examiner', 'driving examiner', $1) RETURNING id`, [center.rows[0]!.id]);
  const slot = await pool.query<{ id: string }>(
    `INSERT INTO time_slots (specialist_id, center_id, test_type, start_time, end_time) VALUES ($1, $2, 'practical', now() + interval '7 days', now() + interval '7 days 1 hour') RETURNING id`,
    [specialist.rows[0]!.id, center.rows[0]!.id],
  );
  const appointment = await pool.query<{ id: string }>(`INSERT INTO appointments (user_id, slot_id, status) VALUES ($1, $2, 'CONFIRMED') RETURNING id`, [
    user.rows[0]!.id,
    slot.rows[0]!.id,
  ]);
  return { userId: user.rows[0]!.id, slotId: slot.rows[0]!.id, appointmentId: appointment.rows[0]!.id, releases: 0 };
}

/** Grows the tables to `alerts` alerts (99% SENT), a tenth as many messages, a fifth as many events and releases. */
async function grow(pool: pg.Pool, s: Seeded, alerts: number): Promise<void> {
  const from = s.releases + 1;
  const add = alerts - s.releases;
  await pool.query(
    `INSERT INTO user_alerts (user_id, slot_id, release_id, status, sent, channel, created_at, sent_at)
     SELECT $1, $2, g, st::alert_status, st = 'SENT', 'email', now() - interval '2 seconds', CASE WHEN st = 'SENT' THEN now() END
       FROM generate_series($3::bigint, $4::bigint) g, LATERAL (SELECT CASE WHEN g % 100 = 0 THEN 'PENDING' ELSE 'SENT' END AS st) x`,
    [s.userId, s.slotId, from, alerts],
  );
  await pool.query(`INSERT INTO alert_messages (user_id, kind, status, channel, sent_at) SELECT $1, 'single', 'SENT', 'email', now() FROM generate_series(1, $2::int)`, [
    s.userId,
    Math.round(add / 10),
  ]);
  await pool.query(`INSERT INTO appointment_events (appointment_id, event_type, to_status) SELECT $1, 'HOLD_PLACED', 'HOLD' FROM generate_series(1, $2::int)`, [
    s.appointmentId,
    Math.round(add / 5),
  ]);
  await pool.query(
    `INSERT INTO slot_releases (slot_id, reason, released_at, processed_at) SELECT $1, 'bench', now() - interval '2 seconds', now() FROM generate_series(1, $2::int)`,
    [s.slotId, Math.round(add / 5)],
  );
  s.releases = alerts;
  await foldMetricCounts(pool);
  await pool.query('VACUUM ANALYZE');
}

async function timeScrapes(pool: pg.Pool, rounds: number): Promise<{ countsMs: number; tablesMs: number }> {
  const collectors = databaseMetrics(pool);
  const counts: number[] = [];
  const tables: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let start = performance.now();
    for (const c of collectors) await c.get();
    counts.push(performance.now() - start);
    start = performance.now();
    for (const sql of OLD_SCRAPE_SQL) await pool.query(sql);
    tables.push(performance.now() - start);
  }
  return { countsMs: ms(median(counts)), tablesMs: ms(median(tables)) };
}

async function setTriggers(pool: pg.Pool, on: boolean): Promise<void> {
  for (const [table, trigger] of TRIGGERS) await pool.query(`ALTER TABLE ${table} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${trigger}`);
}

/** One 1,000-alert INSERT and 100 single-alert claim-and-send pairs, in transactions of their own. */
async function writerRound(pool: pg.Pool, s: Seeded): Promise<{ insertMs: number; updateMs: number }> {
  const from = s.releases + 1;
  s.releases += 1000;
  let start = performance.now();
  await pool.query(
    `INSERT INTO user_alerts (user_id, slot_id, release_id, channel, priority) SELECT $1, $2, g, 'email', 'NORMAL' FROM generate_series($3::bigint, $4::bigint) g`,
    [s.userId, s.slotId, from, s.releases],
  );
  const insertMs = performance.now() - start;
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM user_alerts WHERE release_id BETWEEN $1 AND $2 LIMIT 100`, [from, s.releases]);
  const updates: number[] = [];
  for (const { id } of rows) {
    start = performance.now();
    await pool.query(`UPDATE user_alerts SET status = 'SENDING', attempts = attempts + 1, lease_until = now() + interval '60 seconds' WHERE id = $1`, [id]);
    await pool.query(`UPDATE user_alerts SET status = 'SENT', sent = true, sent_at = now(), lease_until = NULL WHERE id = $1`, [id]);
    updates.push((performance.now() - start) / 2);
  }
  return { insertMs, updateMs: median(updates) };
}

export default async function metricsBench(args: string[]): Promise<void> {
  const small = Number(arg(args, '--small', '10000'));
  const large = Number(arg(args, '--large', '1000000'));
  const rounds = Number(arg(args, '--rounds', '5'));
  const batches = Number(arg(args, '--batches', '20'));
  const env = loadConfig();
  const database = `sw_bench_metrics_${randomBytes(3).toString('hex')}`;
  const adminUrl = withDatabase(env.DATABASE_URL, 'postgres');
  const url = withDatabase(env.DATABASE_URL, database);
  console.log(`metrics: scrape at ${small} and ${large} alerts, writers with counting on and off; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}; database ${database}`);
  await admin(adminUrl, `CREATE DATABASE ${database}`);
  const pool = createPool(url, { max: 2, applicationName: 'slotwatch-bench' });
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    const s = await seed(pool);
    await grow(pool, s, small);
    const atSmall = await timeScrapes(pool, rounds);
    console.log(`scrape at ${small} alerts: counts ${atSmall.countsMs} ms, counting the tables (before) ${atSmall.tablesMs} ms`);
    await grow(pool, s, large);
    const atLarge = await timeScrapes(pool, rounds);
    console.log(`scrape at ${large} alerts: counts ${atLarge.countsMs} ms, counting the tables (before) ${atLarge.tablesMs} ms`);
    const scrape = {
      [small]: atSmall,
      [large]: atLarge,
      countsGrowth: ms(atLarge.countsMs / atSmall.countsMs),
      tablesGrowth: ms(atLarge.tablesMs / atSmall.tablesMs),
      tablesOverCountsAtLarge: ms(atLarge.tablesMs / atLarge.countsMs),
    };
    console.log(
      `  ${large}/${small} alerts: counts x${scrape.countsGrowth}, counting the tables x${scrape.tablesGrowth}; ` +
        `at ${large} counting the tables takes x${scrape.tablesOverCountsAtLarge} as long as the counts`,
    );

    const on: { insertMs: number; updateMs: number }[] = [];
    const off: { insertMs: number; updateMs: number }[] = [];
    for (let b = 0; b < batches; b++) {
      // alternate which goes first, so drift (autovacuum, a neighbour's load) falls on both
      for (const counting of b % 2 ? [false, true] : [true, false]) {
        await setTriggers(pool, counting);
        (counting ? on : off).push(await writerRound(pool, s));
      }
    }
    await setTriggers(pool, true);
    const writers = {
      insert1000: { countingMs: ms(median(on.map((x) => x.insertMs))), baselineMs: ms(median(off.map((x) => x.insertMs))) },
      updateOne: { countingMs: ms(median(on.map((x) => x.updateMs))), baselineMs: ms(median(off.map((x) => x.updateMs))) },
    };
    const ratio = (x: { countingMs: number; baselineMs: number }) => ms(x.countingMs / x.baselineMs);
    console.log(
      `writers at ${large}+ alerts (median of ${batches}): 1,000-alert INSERT ${writers.insert1000.countingMs} ms counting vs ${writers.insert1000.baselineMs} ms not (x${ratio(writers.insert1000)}); ` +
        `one-alert status UPDATE ${writers.updateOne.countingMs} ms vs ${writers.updateOne.baselineMs} ms (x${ratio(writers.updateOne)})`,
    );
    const results = {
      small,
      large,
      rounds,
      batches,
      cpus: cpus().length,
      load: +loadavg()[0]!.toFixed(1),
      scrape,
      writers: { ...writers, insertRatio: ratio(writers.insert1000), updateRatio: ratio(writers.updateOne) },
    };
    mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true });
    writeFileSync(join(projectRoot, 'bench', 'results', 'metrics.json'), JSON.stringify(results, null, 2) + '\n');
    console.log('written to bench/results/metrics.json');
  } finally {
    await pool.end();
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}
