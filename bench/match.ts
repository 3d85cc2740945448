/**
 * `npm run bench -- match [--sizes 100000,1000000] [--slots 1000] [--keep]`: the alert matcher
 * against 100,000 and then 1,000,000 active watches placed like real learners (clustered
 * around the test centres, a few centres much busier than the rest; radii 5 to 50 miles,
 * mostly small; mixed test types; 95% with a date window of one to four weeks), releasing 1,000 slots at real
 * centres. Per size it reports seconds, alerts written and alerts/s beside the floor
 * measured in the same run on the same database (a bare INSERT INTO user_alerts ... SELECT
 * of the same pairs from a prepared table), the cost per alert against the smallest size,
 * the commit time of one release with about 1,000 matches, and the plan of one batch.
 * Matching reads watch_coverage, which the watches' insert trigger fills
 * as they are generated: that is the design's price on the write side, reported per size
 * (time spent in the trigger, coverage rows per watch, table and index sizes).
 * It creates its own database and drops it afterwards. Figures go to bench/results/match.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { log } from '../src/log.js';
import { INSERT_ALERTS_SQL } from '../src/alerts/store.js';
import { MATCH_WORK_MEM, matchReleaseBatch } from '../src/alerts/match.js';
import { ensurePartitions } from '../src/jobs/retention.js';
import { projectRoot } from '../src/paths.js';
import { insertCenters, loadCenters } from '../dev/centers.js';
import { withDatabase } from '../src/db/urls.js';
import { arg } from './_args.js';

const BATCH = 200;



async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Seeds the random generator and makes the tables WATCHES_SQL draws from: bench_users (to
 * fill) and bench_pick, where busier centres (cities) have more rows, so draw more
 * learners: weights from 1 to ~200, heavy-tailed.
 */
export async function createPickTables(pool: pg.Pool): Promise<void> {
  await pool.query(`SELECT setseed(0.42)`);
  await pool.query(`CREATE TABLE bench_users (n int PRIMARY KEY, id uuid NOT NULL)`);
  await pool.query(
    `CREATE TABLE bench_pick AS
     SELECT row_number() OVER ()::int AS rn, c.id AS center_id, c.latitude, c.longitude
       FROM test_centers c, LATERAL generate_series(1, 1 + floor(200 * power(random(), 4))::int)`,
  );
  await pool.query(`ALTER TABLE bench_pick ADD PRIMARY KEY (rn)`);
}

/** Watches $1..$2 (numbers), spread over bench_users 1..$3, placed like real learners. */
export const WATCHES_SQL = `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, notification_method,
                                 preferred_test_types, earliest_date, latest_date)
   SELECT u.id,
          p.latitude + x.d * cos(x.b) / 111320.0,
          p.longitude + x.d * sin(x.b) / (111320.0 * cos(radians(p.latitude))),
          round((5 + 45 * x.r3 * x.r3 * x.r3)::numeric, 2),
          (CASE WHEN x.r4 < 0.7 THEN 'email' ELSE 'push' END)::notification_method,
          CASE WHEN x.r5 < 0.6 THEN '["practical"]' WHEN x.r5 < 0.75 THEN '["theory"]' ELSE '["practical","theory"]' END::jsonb,
          CASE WHEN x.r6 < 0.95 THEN date '2031-01-01' + floor(x.r7 * 170)::int END,
          CASE WHEN x.r6 < 0.95 THEN date '2031-01-01' + floor(x.r7 * 170)::int + 7 + floor(x.r8 * 21)::int END
     FROM (SELECT g,
                  -- distance from the centre: most learners live within a few miles of one
                  least(80000, -12000 * ln(1 - random())) AS d,
                  2 * pi() * random() AS b,
                  random() AS r3, random() AS r4, random() AS r5, random() AS r6, random() AS r7, random() AS r8,
                  1 + floor(random() * (SELECT count(*) FROM bench_pick))::int AS pick
             FROM generate_series($1::int, $2::int) g) x
     JOIN bench_pick p ON p.rn = x.pick
     JOIN bench_users u ON u.n = 1 + (x.g % $3::int)`;

/**
 * Grows users to 0.8 x target and watches to target, continuing from what is there, 100,000
 * watches per INSERT, each filling watch_coverage through its statement-level trigger as
 * the application's writes do. Returns the seconds spent in that trigger, read from
 * pg_stat_xact_user_functions (null where track_functions may not be set: not a superuser).
 */
async function growWatches(pool: pg.Pool, target: number): Promise<number | null> {
  const have = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM user_preferences`)).rows[0]!.n);
  const users = Math.round(target * 0.8);
  const haveUsers = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM bench_users`)).rows[0]!.n);
  await pool.query(
    `INSERT INTO bench_users (n, id) SELECT g, gen_random_uuid() FROM generate_series($1::int + 1, $2::int) g`,
    [haveUsers, users],
  );
  await pool.query(
    `INSERT INTO users (id, email, password_hash, priority, email_verified_at)
     SELECT id, 'learner' || n || '@bench.example', 'x',
            (CASE WHEN n % 50 = 0 THEN 'URGENT' WHEN n % 10 = 0 THEN 'VIP' ELSE 'NORMAL' END)::appointment_priority, now()
       FROM bench_users WHERE n > $1::int`,
    [haveUsers],
  );
  const step = 100_000;
  let triggerSeconds: number | null;
  const client = await pool.connect();
  try {
    // per-function timing is a superuser setting; without it the total is all there is
    const tracked = await client.query(`SET track_functions = 'pl'`).then(
      () => true,
      () => false,
    );
    let triggerMs = 0;
    for (let from = have + 1; from <= target; from += step) {
      const to = Math.min(target, from + step - 1);
      await client.query('BEGIN');
      await client.query(WATCHES_SQL, [from, to, users]);
      const { rows } = await client.query<{ ms: number }>(
        `SELECT coalesce(sum(total_time), 0)::float8 AS ms FROM pg_stat_xact_user_functions WHERE funcname = 'user_preferences_cover_inserted'`,
      );
      await client.query('COMMIT');
      triggerMs += rows[0]!.ms;
      process.stdout.write(`  watches ${to.toLocaleString()}\r`);
    }
    triggerSeconds = tracked ? triggerMs / 1000 : null;
  } finally {
    client.release();
  }
  process.stdout.write('\n');
  await pool.query(`VACUUM ANALYZE users`);
  await pool.query(`VACUUM ANALYZE user_preferences`);
  // the visibility map lets the matcher's scan of the coverage index skip the table
  // (autovacuum would set it in service; it is off on some bench servers)
  await pool.query(`VACUUM ANALYZE watch_coverage`);
  return triggerSeconds;
}

/** Coverage rows per live watch and the table's and indexes' sizes: the design's space. */
async function coverageFigures(pool: pg.Pool) {
  const { rows } = await pool.query<{ rows: string; watches: string; table: string; pkey: string; match: string }>(
    `SELECT (SELECT count(*) FROM watch_coverage) AS rows,
            (SELECT count(*) FROM user_preferences WHERE is_active AND user_active) AS watches,
            pg_table_size('watch_coverage') AS table,
            pg_relation_size('watch_coverage_pkey') AS pkey,
            pg_relation_size('watch_coverage_match') AS match`,
  );
  const r = rows[0]!;
  const mb = (x: string) => +(Number(x) / 2 ** 20).toFixed(1);
  return {
    rows: Number(r.rows),
    rowsPerWatch: +(Number(r.rows) / Math.max(1, Number(r.watches))).toFixed(2),
    tableMB: mb(r.table),
    primaryKeyMB: mb(r.pkey),
    matchIndexMB: mb(r.match),
    totalMB: mb(String(Number(r.table) + Number(r.pkey) + Number(r.match))),
  };
}

/**
 * A checkpoint before each timed part, so that none pays for the writes of what ran
 * before it: generating the watches and their coverage leaves gigabytes of dirty pages and
 * WAL behind, and a checkpoint that came due during the matcher's run (its fsyncs, its
 * full-page images) slowed it by up to a third against the floor measured after it; the
 * floor's own writes did the same to the single releases timed after it (20 ms or 31 ms
 * for the same release at 100,000 watches).
 * Needs a superuser or pg_checkpoint; without either the run goes on as before.
 */
async function settle(pool: pg.Pool): Promise<void> {
  await pool.query('CHECKPOINT').catch(() => {});
}

async function explainOneBatch(pool: pg.Pool, slotIds: string[]): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // as matchReleaseBatch runs it
    await client.query(`SET LOCAL work_mem = '${MATCH_WORK_MEM}'`);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${INSERT_ALERTS_SQL}`, [slotIds]);
    await client.query('ROLLBACK');
    return rows.map((r) => r['QUERY PLAN']);
  } finally {
    client.release();
  }
}

export default async function main(args: string[]): Promise<void> {
  const sizes = arg(args, '--sizes', '100000,1000000').split(',').map(Number);
  const slotCount = Number(arg(args, '--slots', '1000'));
  log.level = 'warn';
  const adminUrl = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const database = `sw_bench_match_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabase(adminUrl, database);
  const pool = createPool(url, { max: 4, applicationName: 'slotwatch-bench-match' });
  const results: Record<string, unknown>[] = [];
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    // the partitions a worker makes when it starts: alerts land in their week's, not the default one
    await ensurePartitions(pool, new Date());
    const { centers: centres, real } = loadCenters();
    console.log(`bench match: ${centres.length} ${real ? 'DVSA' : 'generated'} centres, ${slotCount} slots, sizes ${sizes.join(', ')}`);
    await insertCenters(pool, centres);
    await createPickTables(pool);
    // the slots, at centres drawn the same way, over six months; releasing them is the work
    await pool.query(
      `INSERT INTO time_slots (center_id, test_type, start_time, end_time, source, external_id)
       SELECT p.center_id, x.test_type, x.start_time, x.start_time + interval '57 minutes', 'bench', x.g::text
         FROM (SELECT g,
                      (CASE WHEN random() < 0.85 THEN 'practical' ELSE 'theory' END)::test_type AS test_type,
                      timestamptz '2031-01-01 09:00 Europe/London' + floor(random() * 180) * interval '1 day'
                        + floor(random() * 8) * interval '1 hour' AS start_time,
                      1 + floor(random() * (SELECT count(*) FROM bench_pick))::int AS pick
                 FROM generate_series(1, $1::int) g) x
         JOIN bench_pick p ON p.rn = x.pick`,
      [slotCount],
    );
    const slotIds = (await pool.query<{ id: string }>(`SELECT id FROM time_slots ORDER BY id`)).rows.map((r) => r.id);
    // as autovacuum would: the matcher's plan sizes its sort from the released slots' estimate
    await pool.query(`VACUUM ANALYZE time_slots`);

    let grown = 0;
    for (const size of sizes) {
      console.log(`\n== ${size.toLocaleString()} active watches`);
      const added = size - grown;
      const [triggerSeconds, genSeconds] = await timed(() => growWatches(pool, size));
      grown = size;
      const coverage = {
        // the watches added for this size, and the time their insert trigger took
        watchesAdded: added,
        triggerSeconds: triggerSeconds === null ? null : +triggerSeconds.toFixed(1),
        triggerMicrosecondsPerWatch: triggerSeconds === null ? null : Math.round((triggerSeconds / added) * 1e6),
        ...(await coverageFigures(pool)),
      };
      console.log(
        `  ${added.toLocaleString()} watches generated in ${genSeconds.toFixed(1)} s, of which ${coverage.triggerSeconds ?? '?'} s ` +
          `(${coverage.triggerMicrosecondsPerWatch ?? '?'} us per watch) in the insert trigger building their coverage`,
      );
      console.log(
        `  coverage: ${coverage.rows.toLocaleString()} rows, ${coverage.rowsPerWatch} per live watch; table ${coverage.tableMB} MB, ` +
          `primary key ${coverage.primaryKeyMB} MB, match index ${coverage.matchIndexMB} MB (${coverage.totalMB} MB in all)`,
      );
      await pool.query(`TRUNCATE user_alerts`);
      await pool.query(`DELETE FROM slot_releases`);
      await pool.query(`INSERT INTO slot_releases (slot_id, reason) SELECT id, 'bench' FROM time_slots`);
      await pool.query(`VACUUM ANALYZE slot_releases`);
      await pool.query(`VACUUM ANALYZE user_alerts`);

      const plan = await explainOneBatch(pool, slotIds.slice(0, BATCH));
      await settle(pool);
      const [alerts, seconds] = await timed(async () => {
        let n = 0;
        for (;;) {
          const b = await matchReleaseBatch(pool, BATCH);
          n += b.alerts.length;
          if (b.releases < BATCH) return n;
        }
      });

      // the floor: the same pairs inserted by one bare INSERT ... SELECT, same table, same
      // indexes and constraints, in the order the matcher writes them (its unique key's)
      await pool.query(`DROP TABLE IF EXISTS bench_pairs`);
      await pool.query(`CREATE TABLE bench_pairs AS SELECT user_id, slot_id, preference_id, distance_m, channel, priority FROM user_alerts ORDER BY slot_id, user_id`);
      await pool.query(`TRUNCATE user_alerts`);
      await pool.query(`VACUUM ANALYZE user_alerts`);
      await settle(pool);
      const [floorRows, floorSeconds] = await timed(async () =>
        (await pool.query(
          `INSERT INTO user_alerts (user_id, slot_id, preference_id, distance_m, channel, priority)
           SELECT user_id, slot_id, preference_id, distance_m, channel, priority FROM bench_pairs`,
        )).rowCount ?? 0,
      );

      // one release with about 1,000 matches, matched and committed alone
      const target = (
        await pool.query<{ slot_id: string; n: number }>(
          `SELECT slot_id, count(*)::int AS n FROM bench_pairs GROUP BY slot_id ORDER BY abs(count(*) - 1000), slot_id LIMIT 1`,
        )
      ).rows[0];
      const single: number[] = [];
      let singleAlerts = 0;
      if (target) {
        await settle(pool);
        for (let i = 0; i < 7; i++) {
          await pool.query(`DELETE FROM user_alerts WHERE slot_id = $1`, [target.slot_id]);
          await pool.query(`INSERT INTO slot_releases (slot_id, reason) VALUES ($1, 'bench')`, [target.slot_id]);
          const [b, s] = await timed(() => matchReleaseBatch(pool, 1));
          singleAlerts = b.alerts.length;
          single.push(s * 1000);
        }
      }

      const rate = alerts / seconds;
      const floorRate = floorRows / floorSeconds;
      const r = {
        watches: size,
        releases: slotIds.length,
        seconds: +seconds.toFixed(3),
        alerts,
        alertsPerSecond: Math.round(rate),
        floorSeconds: +floorSeconds.toFixed(3),
        floorAlertsPerSecond: Math.round(floorRate),
        rateVsFloor: +(rate / floorRate).toFixed(3),
        microsecondsPerAlert: +((seconds / Math.max(1, alerts)) * 1e6).toFixed(2),
        floorMicrosecondsPerAlert: +((floorSeconds / Math.max(1, floorRows)) * 1e6).toFixed(2),
        generationSeconds: +genSeconds.toFixed(1),
        coverage,
        singleRelease: { matches: singleAlerts, medianMs: single.length ? +median(single).toFixed(1) : null, runsMs: single.map((x) => +x.toFixed(1)) },
        plan: plan.filter((l) => /Scan|Join|Loop|Insert|Sort|Unique|Heap Fetches|JIT|Execution Time|Planning Time/.test(l)).map((l) => l.trimEnd()),
      };
      results.push(r);
      console.log(`  matching: ${seconds.toFixed(2)} s, ${alerts.toLocaleString()} alerts, ${Math.round(rate).toLocaleString()} alerts/s`);
      console.log(`  floor:    ${floorSeconds.toFixed(2)} s, ${floorRows.toLocaleString()} alerts, ${Math.round(floorRate).toLocaleString()} alerts/s`);
      console.log(`  matching rate / floor rate: ${(rate / floorRate).toFixed(2)} (goal >= 0.5)`);
      console.log(`  one release with ${singleAlerts} matches: median ${r.singleRelease.medianMs} ms over ${single.length} runs (goal < 50 ms)`);
      console.log('  plan of one batch of ' + BATCH + ' releases:');
      for (const l of r.plan) console.log('    ' + l);
    }

    const first = results[0] as { microsecondsPerAlert: number; floorMicrosecondsPerAlert: number } | undefined;
    for (const r of results as { watches: number; microsecondsPerAlert: number; floorMicrosecondsPerAlert: number; costVsFirst?: number; floorCostVsFirst?: number }[]) {
      r.costVsFirst = first ? +(r.microsecondsPerAlert / first.microsecondsPerAlert).toFixed(3) : 1;
      // the floor's own growth (a bigger alerts table and indexes, colder caches) for comparison
      r.floorCostVsFirst = first ? +(r.floorMicrosecondsPerAlert / first.floorMicrosecondsPerAlert).toFixed(3) : 1;
    }
    console.log('\nsummary');
    for (const r of results as (typeof results[number] & {
      watches: number; seconds: number; alerts: number; alertsPerSecond: number; rateVsFloor: number; microsecondsPerAlert: number;
      costVsFirst: number; floorCostVsFirst: number; singleRelease: { medianMs: number | null; matches: number };
      coverage: { triggerMicrosecondsPerWatch: number | null; rowsPerWatch: number; totalMB: number };
    })[]) {
      console.log(
        `  ${String(r.watches).padStart(8)} watches: ${r.seconds.toFixed(2)} s, ${r.alerts} alerts, ${r.alertsPerSecond} alerts/s, ` +
          `${r.rateVsFloor}x floor rate, ${r.microsecondsPerAlert} us/alert (${r.costVsFirst}x the first size, goal <= 1.5; the floor's ${r.floorCostVsFirst}x), ` +
          `single release ${r.singleRelease.matches} matches in ${r.singleRelease.medianMs} ms; ` +
          `coverage ${r.coverage.rowsPerWatch} rows/watch, ${r.coverage.totalMB} MB, built at ${r.coverage.triggerMicrosecondsPerWatch ?? '?'} us/watch`,
      );
    }
    const dir = join(projectRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'match.json'),
      JSON.stringify({ when: new Date().toISOString(), centres: real ? 'DVSA' : 'generated', batchSize: BATCH, results }, null, 2) + '\n',
    );
    console.log(`\nwrote bench/results/match.json`);
  } finally {
    await pool.end();
    if (args.includes('--keep')) console.log(`kept database ${database}`);
    else await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
