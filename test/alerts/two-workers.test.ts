/**
 * Two worker processes draining 1,000 releases together write exactly the alerts the
 * rules call for: none twice, none missing, every release processed once, every alert
 * handed to the deliveries queue.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { bullPrefix } from '../../src/queues/names.js';
import { runFixture } from '../fixtures/child.js';
import { insertCenters, loadCenters, prng } from '../../dev/centers.js';
import { useTestContext } from '../helpers/context.js';

const ctx = useTestContext();
let queue: Queue | undefined;
afterAll(async () => {
  // the queue's keys are {prefix}:..., outside the ctx's key prefix: remove them here
  await queue?.obliterate({ force: true });
  await queue?.close();
});

// the rules written the slow way, with no index and no batching, for comparison
const EXPECTED_SQL = `
SELECT DISTINCT p.user_id, s.id AS slot_id
  FROM time_slots s
  JOIN test_centers c ON c.id = s.center_id
  CROSS JOIN user_preferences p
  JOIN users u ON u.id = p.user_id
 WHERE s.status = 'AVAILABLE' AND p.is_active AND u.is_active
   AND ST_Distance(p.location, c.location, true) <= p.radius_miles::float8 * 1609.344
   AND p.preferred_test_types ? s.test_type::text
   AND (p.earliest_date IS NULL OR p.earliest_date <= (s.start_time AT TIME ZONE 'Europe/London')::date)
   AND (p.latest_date IS NULL OR (s.start_time AT TIME ZONE 'Europe/London')::date <= p.latest_date)`;

describe('two worker processes', () => {
  it('on 1,000 releases produce exactly the alerts one would', async () => {
    const rand = prng(11);
    const centres = loadCenters().centers.slice(0, 30);
    const centreIds = await insertCenters(ctx.pool, centres);
    // 1,500 watches around the centres, some users with several, mixed types and windows
    const users = await ctx.pool.query<{ id: string }>(
      `INSERT INTO users (email, password_hash, priority, email_verified_at)
       SELECT 'w' || g || '@example.com', 'x', (ARRAY['NORMAL','VIP','URGENT'])[1 + g % 3]::appointment_priority, now()
         FROM generate_series(1, 1000) g RETURNING id`,
    );
    const n = 1500;
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const w = Array.from({ length: n }, () => {
      const c = pick(centres);
      return {
        user: pick(users.rows).id,
        lat: c.latitude + (rand() - 0.5) * 0.8,
        lon: c.longitude + (rand() - 0.5) * 1.2,
        radius: 5 + Math.round(rand() * 45),
        types: pick(['["practical"]', '["theory"]', '["practical","theory"]']),
        earliest: rand() < 0.3 ? '2031-01-10' : null,
        latest: rand() < 0.3 ? '2031-01-20' : null,
      };
    });
    await ctx.pool.query(
      `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, preferred_test_types, earliest_date, latest_date)
       SELECT * FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::numeric[], $5::jsonb[], $6::date[], $7::date[])`,
      [w.map((x) => x.user), w.map((x) => x.lat), w.map((x) => x.lon), w.map((x) => x.radius), w.map((x) => x.types), w.map((x) => x.earliest), w.map((x) => x.latest)],
    );
    // 1,000 slots released, each in its own transaction (so its own NOTIFY and release row)
    for (let i = 0; i < 1000; i++) {
      await ctx.pool.query(
        `INSERT INTO time_slots (center_id, test_type, start_time, end_time)
         VALUES ($1, $2::test_type, timestamptz '2031-01-01 08:00Z' + $3::int * interval '1 hour', timestamptz '2031-01-01 09:00Z' + $3::int * interval '1 hour')`,
        [centreIds[i % centreIds.length], i % 3 === 0 ? 'theory' : 'practical', i],
      );
    }
    const expected = (await ctx.pool.query<{ user_id: string; slot_id: string }>(EXPECTED_SQL)).rows.map((r) => `${r.user_id}|${r.slot_id}`).sort();
    expect(expected.length).toBeGreaterThan(1000);

    const env = {
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: ctx.redisPrefix.replace(/[^A-Za-z0-9_-]/g, '_'),
      RELEASE_BATCH_SIZE: '5',
      MODE: 'drain',
    };
    const a = runFixture('match-worker.ts', env);
    const b = runFixture('match-worker.ts', env);
    await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    a.proc.stdin.write('go\n');
    b.proc.stdin.write('go\n');
    const results = (await Promise.all([a.waitFor('done '), b.waitFor('done ')])).map(
      (l) => JSON.parse(l.slice(5)) as { releases: number; alerts: number },
    );
    await Promise.all([a.exited, b.exited]);

    const got = (await ctx.pool.query<{ user_id: string; slot_id: string }>(`SELECT user_id, slot_id FROM user_alerts`)).rows
      .map((r) => `${r.user_id}|${r.slot_id}`)
      .sort();
    expect(got).toEqual(expected);
    expect(results[0]!.releases + results[1]!.releases).toBe(1000);
    expect(results[0]!.alerts + results[1]!.alerts).toBe(expected.length);
    // both processes really took part
    expect(results[0]!.releases).toBeGreaterThan(0);
    expect(results[1]!.releases).toBeGreaterThan(0);
    const releases = await ctx.pool.query<{ unprocessed: number; alerts: number }>(
      `SELECT count(*) FILTER (WHERE processed_at IS NULL)::int AS unprocessed, sum(alerts_created)::int AS alerts FROM slot_releases`,
    );
    expect(releases.rows[0]).toEqual({ unprocessed: 0, alerts: expected.length });

    // every alert is a job on its channel's deliveries queue (the watches here ask for email)
    queue = new Queue('deliveries-email', { connection: ctx.redis, prefix: bullPrefix(env.QUEUE_PREFIX, 'deliveries-email') });
    const counts = await queue.getJobCounts('prioritized', 'waiting');
    expect(counts.prioritized! + counts.waiting!).toBe(expected.length);
    const notEnqueued = await ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_alerts WHERE enqueued_at IS NULL`);
    expect(notEnqueued.rows[0]!.n).toBe(0);
  });
});
