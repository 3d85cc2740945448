/**
 * watch_coverage (migration 0014): the rows the matcher reads follow every change of a
 * watch, its user and the centres, in the same transaction; a bulk insert (one statement,
 * one trigger call) gives exactly the rows of one insert per watch and of the centres' own
 * path; a centre and a watch written at the same time still cover each other; and the
 * migration's backfill gives the rows the triggers would.
 */
import geodesic from 'geographiclib-geodesic';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { withTransaction } from '../../src/db/transaction.js';
import { prng } from '../../dev/centers.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertUser } from '../helpers/factories.js';
import { useEmptyDatabase } from '../helpers/empty-database.js';

const ctx = useTestContext();
const MILE = 1609.344;
// London; a mile north is about 0.01447 degrees of latitude
const LAT = 51.5;
const LON = -0.12;

interface Row {
  center_id: string;
  test_type: string;
  user_id: string;
  distance_m: number;
  earliest_date: string;
  latest_date: string;
  notification_method: string;
  user_priority: string;
}

const ROW_COLUMNS = `w.center_id, w.test_type::text, w.user_id, w.distance_m, w.earliest_date::text, w.latest_date::text,
  w.notification_method::text, w.user_priority::text`;

async function coverage(db: pg.Pool | pg.PoolClient, watchId: string): Promise<Row[]> {
  const { rows } = await db.query<Row>(`SELECT ${ROW_COLUMNS} FROM watch_coverage w WHERE w.preference_id = $1 ORDER BY w.center_id, w.test_type`, [watchId]);
  return rows;
}

/** The (centre, type) pairs of a watch's rows. */
async function pairs(watchId: string): Promise<string[]> {
  return (await coverage(ctx.pool, watchId)).map((r) => `${r.center_id}/${r.test_type}`).sort();
}

/** The row versions of a watch's rows: unchanged when nothing rewrote them. */
async function versions(watchId: string): Promise<string[]> {
  const { rows } = await ctx.pool.query<{ v: string }>(`SELECT xmin::text || ctid::text AS v FROM watch_coverage WHERE preference_id = $1 ORDER BY 1`, [watchId]);
  return rows.map((r) => r.v);
}

async function watch(o: { userId: string; latitude?: number; longitude?: number; radiusMiles?: number; testTypes?: string[]; method?: string }) {
  const { rows } = await ctx.pool.query<{ id: string }>(
    `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, preferred_test_types, notification_method)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::notification_method) RETURNING id`,
    [o.userId, o.latitude ?? LAT, o.longitude ?? LON, o.radiusMiles ?? 10, JSON.stringify(o.testTypes ?? ['practical']), o.method ?? 'email'],
  );
  return rows[0]!.id;
}

const setWatch = (id: string, sql: string, ...values: unknown[]) => ctx.pool.query(`UPDATE user_preferences SET ${sql} WHERE id = $1`, [id, ...values]);

describe('watch coverage', () => {
  it("follows a watch's changes, its user's flag and tier, and its deletion", async () => {
    const a = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const b = await insertCenter(ctx.pool, { latitude: LAT + 0.0145 * 20, longitude: LON }); // ~20 miles north
    const user = await insertUser(ctx.pool);
    const id = await watch({ userId: user.id });
    expect(await pairs(id)).toEqual([`${a.id}/practical`]);
    const [row] = await coverage(ctx.pool, id);
    const exact = await ctx.pool.query<{ d: number }>(
      `SELECT ST_Distance(p.location, c.location, true) AS d FROM user_preferences p, test_centers c WHERE p.id = $1 AND c.id = $2`,
      [id, a.id],
    );
    expect(row).toEqual({
      center_id: a.id,
      test_type: 'practical',
      user_id: user.id,
      distance_m: exact.rows[0]!.d,
      earliest_date: '-infinity',
      latest_date: 'infinity',
      notification_method: 'email',
      user_priority: 'NORMAL',
    });

    // moved next to b: a is now 20 miles away, outside the 10-mile radius
    await setWatch(id, 'latitude = $2', LAT + 0.0145 * 20);
    expect(await pairs(id)).toEqual([`${b.id}/practical`]);
    await setWatch(id, 'radius_miles = 25');
    expect(await pairs(id)).toEqual([`${a.id}/practical`, `${b.id}/practical`].sort());
    await setWatch(id, `preferred_test_types = '["theory","practical"]'`);
    expect(await pairs(id)).toEqual([`${a.id}/practical`, `${a.id}/theory`, `${b.id}/practical`, `${b.id}/theory`].sort());
    await setWatch(id, `earliest_date = '2031-02-01', latest_date = '2031-03-01', notification_method = 'push'`);
    expect(new Set((await coverage(ctx.pool, id)).map((r) => `${r.earliest_date} ${r.latest_date} ${r.notification_method}`))).toEqual(
      new Set(['2031-02-01 2031-03-01 push']),
    );

    // a change that no row depends on leaves the rows alone
    const before = await versions(id);
    await setWatch(id, `label = 'near work'`);
    expect(await versions(id)).toEqual(before);

    await setWatch(id, 'is_active = false');
    expect(await pairs(id)).toEqual([]);
    await setWatch(id, 'is_active = true');
    expect(await pairs(id)).toHaveLength(4);

    // the user's flag and tier reach the rows through the watches (migrations 0011/0013)
    await ctx.pool.query(`UPDATE users SET is_active = false WHERE id = $1`, [user.id]);
    expect(await pairs(id)).toEqual([]);
    await ctx.pool.query(`UPDATE users SET is_active = true, priority = 'URGENT' WHERE id = $1`, [user.id]);
    expect(new Set((await coverage(ctx.pool, id)).map((r) => r.user_priority))).toEqual(new Set(['URGENT']));
    await ctx.pool.query(`UPDATE users SET priority = 'VIP' WHERE id = $1`, [user.id]);
    expect(new Set((await coverage(ctx.pool, id)).map((r) => r.user_priority))).toEqual(new Set(['VIP']));

    // moved to another user
    const other = await insertUser(ctx.pool, { priority: 'URGENT' });
    await setWatch(id, 'user_id = $2', other.id);
    expect(new Set((await coverage(ctx.pool, id)).map((r) => `${r.user_id} ${r.user_priority}`))).toEqual(new Set([`${other.id} URGENT`]));

    await ctx.pool.query(`DELETE FROM user_preferences WHERE id = $1`, [id]);
    expect(await pairs(id)).toEqual([]);
    // deleting a user deletes their watches, and those take their rows
    const second = await watch({ userId: other.id });
    expect(await pairs(second)).toHaveLength(1);
    await ctx.pool.query(`DELETE FROM users WHERE id = $1`, [other.id]);
    const { rows } = await ctx.pool.query(`SELECT 1 FROM watch_coverage WHERE user_id = ANY ($1::uuid[])`, [[user.id, other.id]]);
    expect(rows).toEqual([]);
  });

  it('covers a new centre, follows a moved one, and forgets a deleted one', async () => {
    const here = { latitude: 53.4, longitude: -2.9 }; // Liverpool, away from the other tests' centres
    const user = await insertUser(ctx.pool);
    const near = await watch({ userId: user.id, ...here, radiusMiles: 5 });
    const wide = await watch({ userId: user.id, ...here, radiusMiles: 40, testTypes: ['theory'] });
    expect(await pairs(near)).toEqual([]);

    const centre = await insertCenter(ctx.pool, { latitude: here.latitude + 0.0145 * 3, longitude: here.longitude });
    expect(await pairs(near)).toEqual([`${centre.id}/practical`]);
    expect(await pairs(wide)).toEqual([`${centre.id}/theory`]);

    // moved 20 miles away: out of the 5-mile watch, still in the 40-mile one
    await ctx.pool.query(`UPDATE test_centers SET latitude = $2 WHERE id = $1`, [centre.id, here.latitude + 0.0145 * 20]);
    expect(await pairs(near)).toEqual([]);
    expect(await pairs(wide)).toEqual([`${centre.id}/theory`]);
    const [moved] = await coverage(ctx.pool, wide);
    expect(moved!.distance_m).toBeGreaterThan(19 * MILE);

    // renamed: no row is rewritten
    const before = await versions(wide);
    await ctx.pool.query(`UPDATE test_centers SET name = 'Renamed' WHERE id = $1`, [centre.id]);
    expect(await versions(wide)).toEqual(before);

    await ctx.pool.query(`DELETE FROM test_centers WHERE id = $1`, [centre.id]);
    expect(await pairs(wide)).toEqual([]);
  });

  it('refuses to place a centre under REPEATABLE READ, where it could miss a watch committed meanwhile', async () => {
    await expect(
      withTransaction(ctx.pool, (tx) => insertCenter(tx, { latitude: 52.0, longitude: 0.5 }), { isolation: 'REPEATABLE READ', maxAttempts: 1 }),
    ).rejects.toMatchObject({ code: '55000' });
  });

  it('a watch and a centre written at the same time cover each other, whichever commits first', async () => {
    const user = await insertUser(ctx.pool);
    const waiting = async (pid: number) => {
      const { rows } = await ctx.pool.query<{ w: string | null }>(`SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1`, [pid]);
      return rows[0]?.w === 'Lock';
    };
    const place = (i: number) => ({ latitude: 55.0 + i * 0.5, longitude: -3.5 });

    for (const [i, first] of [
      [0, 'watch'],
      [1, 'centre'],
    ] as const) {
      const a = await ctx.pool.connect();
      const b = await ctx.pool.connect();
      try {
        const pidB = (await b.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid;
        const newWatch = async (c: pg.PoolClient) =>
          (
            await c.query<{ id: string }>(
              `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles) VALUES ($1, $2, $3, 10) RETURNING id`,
              [user.id, place(i).latitude, place(i).longitude],
            )
          ).rows[0]!.id;
        const newCentre = async (c: pg.PoolClient) => (await insertCenter(c, place(i))).id;
        const [writeFirst, writeSecond] = first === 'watch' ? [newWatch, newCentre] : [newCentre, newWatch];
        // a holds its write uncommitted while b writes the other
        await a.query('BEGIN');
        const firstId = await writeFirst(a);
        const second = writeSecond(b);
        let waited = false;
        for (let t = 0; t < 50 && !waited; t++) {
          waited = await waiting(pidB);
          if (!waited) await new Promise((r) => setTimeout(r, 20));
        }
        expect(waited, `the second write waits for the open ${first}`).toBe(true);
        await a.query('COMMIT');
        const secondId = await second;
        const [watchId, centreId] = first === 'watch' ? [firstId, secondId] : [secondId, firstId];
        expect(await pairs(watchId)).toEqual([`${centreId}/practical`]);
      } finally {
        // closed, not pooled: after a failure a may still hold its transaction open
        a.release(true);
        b.release(true);
      }
    }
  });

  it('a bulk insert gives the rows of one insert per watch, and of the centres recomputed', async () => {
    const rand = prng(23);
    const centres: { latitude: number; longitude: number }[] = [];
    for (let i = 0; i < 12; i++) centres.push({ latitude: 50.5 + rand() * 0.8, longitude: -4.5 + rand() * 1.5 }); // Devon and Cornwall
    for (const c of centres) await insertCenter(ctx.pool, c);
    const types = ['["practical"]', '["theory"]', '["practical","theory"]', '["theory","practical","theory"]'];
    const specs = Array.from({ length: 400 }, () => {
      const c = centres[Math.floor(rand() * centres.length)]!;
      const radius = rand() < 0.1 ? 100 : Math.round((1 + rand() * 60) * 100) / 100;
      // many right at a centre's distance from the edge of the circle
      const p = geodesic.Geodesic.WGS84.Direct(c.latitude, c.longitude, rand() * 360 - 180, rand() < 0.5 ? radius * MILE * (1 + (rand() - 0.5) * 1e-4) : rand() * radius * MILE * 1.5);
      const earliest = rand() < 0.5 ? '2031-01-01' : null;
      return {
        latitude: p.lat2!,
        longitude: p.lon2!,
        radius,
        types: types[Math.floor(rand() * types.length)]!,
        earliest,
        latest: rand() < 0.5 ? '2031-06-01' : null,
        method: rand() < 0.5 ? 'email' : 'push',
        active: rand() < 0.9,
      };
    });
    const users = await ctx.pool.query<{ id: string }>(
      `INSERT INTO users (email, password_hash, email_verified_at) SELECT 'bulk' || g || '@example.com', 'x', now() FROM generate_series(1, 2) g ORDER BY g RETURNING id`,
    );
    const [bulkUser, oneUser] = users.rows.map((r) => r.id) as [string, string];
    const insertSql = `INSERT INTO user_preferences (user_id, label, latitude, longitude, radius_miles, preferred_test_types, earliest_date, latest_date,
                                                    notification_method, is_active)
      SELECT $1::uuid, t.label, t.la, t.lo, t.r, t.ty::jsonb, t.e::date, t.l::date, t.m::notification_method, t.a
        FROM unnest($2::text[], $3::float8[], $4::float8[], $5::numeric[], $6::text[], $7::text[], $8::text[], $9::text[], $10::boolean[])
          AS t (label, la, lo, r, ty, e, l, m, a)`;
    const columns = (xs: typeof specs, from: number) => [
      xs.map((_, i) => String(from + i)),
      xs.map((s) => s.latitude),
      xs.map((s) => s.longitude),
      xs.map((s) => s.radius),
      xs.map((s) => s.types),
      xs.map((s) => s.earliest),
      xs.map((s) => s.latest),
      xs.map((s) => s.method),
      xs.map((s) => s.active),
    ];
    await ctx.pool.query(insertSql, [bulkUser, ...columns(specs, 0)]);
    for (let i = 0; i < specs.length; i++) await ctx.pool.query(insertSql, [oneUser, ...columns([specs[i]!], i)]);

    const byLabel = async (userId: string) => {
      const { rows } = await ctx.pool.query<{ label: string } & Row>(
        `SELECT p.label, ${ROW_COLUMNS.replace(/w\.user_id, /, '')}
           FROM watch_coverage w JOIN user_preferences p ON p.id = w.preference_id
          WHERE p.user_id = $1 ORDER BY p.label, w.center_id, w.test_type`,
        [userId],
      );
      return rows;
    };
    const bulk = await byLabel(bulkUser);
    expect(bulk.length).toBeGreaterThan(500);
    expect(await byLabel(oneUser)).toEqual(bulk);
    const inactive = await ctx.pool.query(`SELECT 1 FROM watch_coverage w JOIN user_preferences p ON p.id = w.preference_id WHERE NOT p.is_active`);
    expect(inactive.rows).toEqual([]);

    // the centres' path (a new or moved centre) finds the same rows
    const all = `SELECT w.preference_id, ${ROW_COLUMNS} FROM watch_coverage w ORDER BY w.preference_id, w.center_id, w.test_type`;
    const viaWatches = (await ctx.pool.query(all)).rows;
    await ctx.pool.query(`SELECT test_centers_cover(array_agg(id)) FROM test_centers`);
    expect((await ctx.pool.query(all)).rows).toEqual(viaWatches);
  });
});

describe('migration 0014', () => {
  const emptyDatabase = useEmptyDatabase('cov');

  it('backfills the rows of the live watches that were there, as the triggers would write them', async () => {
    const url = await emptyDatabase();
    await migrate({ databaseUrl: url, direction: 'up', count: 13 });
    const db = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const centres = [
        { latitude: 51.5, longitude: -0.12 },
        { latitude: 51.75, longitude: -1.25 }, // Oxford, ~50 miles from London
        { latitude: 52.2, longitude: 0.12 }, // Cambridge
      ];
      for (const c of centres) await insertCenter(db, c);
      // users as the schema of migration 13 has them (the factory writes later columns)
      const user = async (email: string, isActive: boolean, priority: string) =>
        (await db.query<{ id: string }>(`INSERT INTO users (email, password_hash, is_active, priority) VALUES ($1, 'x', $2, $3::appointment_priority) RETURNING id`, [email, isActive, priority])).rows[0]!;
      const active = await user('active@coverage.test', true, 'NORMAL');
      const inactive = await user('inactive@coverage.test', false, 'URGENT');
      const urgent = await user('urgent@coverage.test', true, 'URGENT');
      await db.query(
        `INSERT INTO user_preferences (user_id, label, latitude, longitude, radius_miles, preferred_test_types, earliest_date, is_active)
         VALUES ($1, 'london 10', 51.5, -0.12, 10, '["practical"]', NULL, true),
                ($1, 'london 60 both', 51.5, -0.12, 60, '["practical","theory"]', '2031-01-01', true),
                ($1, 'paused', 51.5, -0.12, 60, '["practical"]', NULL, false),
                ($2, 'inactive user', 51.5, -0.12, 60, '["practical"]', NULL, true),
                ($3, 'urgent cambridge', 52.2, 0.12, 5, '["theory"]', NULL, true)`,
        [active.id, inactive.id, urgent.id],
      );

      await migrate({ databaseUrl: url, direction: 'up' });
      const { rows } = await db.query<{ label: string; n: number; types: string; earliest: string; priority: string }>(
        `SELECT p.label, count(*)::int AS n, string_agg(DISTINCT w.test_type::text, ',') AS types,
                min(w.earliest_date)::text AS earliest, min(w.user_priority::text) AS priority
           FROM watch_coverage w JOIN user_preferences p ON p.id = w.preference_id
          GROUP BY p.label ORDER BY p.label`,
      );
      // London-Oxford and London-Cambridge are about 50 miles (geodesic), inside 60
      const g = geodesic.Geodesic.WGS84;
      expect(g.Inverse(51.5, -0.12, 51.75, -1.25).s12! / MILE).toBeLessThan(60);
      expect(g.Inverse(51.5, -0.12, 52.2, 0.12).s12! / MILE).toBeLessThan(60);
      expect(rows).toEqual([
        { label: 'london 10', n: 1, types: 'practical', earliest: '-infinity', priority: 'NORMAL' },
        { label: 'london 60 both', n: 6, types: 'practical,theory', earliest: '2031-01-01', priority: 'NORMAL' },
        { label: 'urgent cambridge', n: 1, types: 'theory', earliest: '-infinity', priority: 'URGENT' },
      ]);

      // the triggers' own paths give the same rows
      const all = `SELECT w.preference_id, ${ROW_COLUMNS} FROM watch_coverage w ORDER BY w.preference_id, w.center_id, w.test_type`;
      const backfilled = (await db.query(all)).rows;
      await db.query(`SELECT test_centers_cover(array_agg(id)) FROM test_centers`);
      expect((await db.query(all)).rows).toEqual(backfilled);
      await db.query(`UPDATE user_preferences SET radius_miles = radius_miles + 1`);
      await db.query(`UPDATE user_preferences SET radius_miles = radius_miles - 1`);
      expect((await db.query(all)).rows).toEqual(backfilled);
    } finally {
      await db.end();
    }
  });
});
