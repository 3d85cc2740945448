/**
 * The retention pass, with time moved by the `now` it is given (never by waiting): the
 * partitions ahead exist, a partition goes once its upper bound is older than the
 * retention and not a moment before, a partition holding a younger row stays, the settings
 * decide, the counts /metrics reads stay equal to the rows, and the other tables age out.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { inBatches, runRetention, type RetentionSettings } from '../../src/jobs/retention.js';
import { deleteStaleSessions } from '../../src/accounts/sessions.js';
import { deleteOldAnswers } from '../../src/booking/idempotency.js';
import { foldMetricCounts, readCounts } from '../../src/metrics/counts.js';
import { useTestContext } from '../helpers/context.js';
import { insertAppointment, insertCenter, insertSlot, insertUser } from '../helpers/factories.js';

const DAY = 86_400_000;
const DEFAULTS: RetentionSettings = {
  alert_retention_days: 90,
  event_retention_days: 730,
  audit_retention_days: 730,
  release_retention_days: 30,
  slot_retention_days: 365,
};

/** A time-ordered id of the moment `at` (as uuid_time_ordered makes them). */
function idAt(at: Date): string {
  const hex = at.getTime().toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

describe('retention', () => {
  const ctx = useTestContext();
  let userId: string;
  let slotId: string;
  /** A past week's partition of user_alerts, five weeks back. */
  let lo: Date;
  let hi: Date;

  const partitions = async (table: string) =>
    (await ctx.pool.query<{ part: string; upper_bound: Date }>(`SELECT part::text, upper_bound FROM partitions_of($1::regclass)`, [table])).rows;
  const exists = async (name: string) => (await ctx.pool.query(`SELECT to_regclass($1) AS r`, [name])).rows[0].r !== null;
  let release = 0;
  /** An alert with the id of `at` and its own release (the dedupe key is (slot, user, release)). */
  const alert = (at: Date, createdAt: Date, status = 'SENT') =>
    ctx.pool.query(
      `INSERT INTO user_alerts (id, user_id, slot_id, status, sent, sent_at, channel, created_at, release_id)
       VALUES ($1, $2, $3, $4::alert_status, $4 = 'SENT', CASE WHEN $4 = 'SENT' THEN $5::timestamptz END, 'email', $5, $6) RETURNING id`,
      [idAt(at), userId, slotId, status, createdAt, ++release],
    );
  /** The alerts gauge as /metrics would read it, against the rows themselves. */
  const gaugeAndRows = async () => {
    await foldMetricCounts(ctx.pool);
    const counted = (await readCounts(ctx.pool, ['alerts'])).reduce((n, r) => n + r.value, 0);
    const rows = Number((await ctx.pool.query(`SELECT count(*) AS n FROM user_alerts`)).rows[0].n);
    return { counted, rows };
  };

  beforeAll(async () => {
    userId = (await insertUser(ctx.pool)).id;
    slotId = (await insertSlot(ctx.pool, { centerId: (await insertCenter(ctx.pool)).id })).id;
    const now = new Date();
    // five weeks back: young enough that a pass at the real time keeps it
    const then = new Date(now.getTime() - 35 * DAY);
    await ctx.pool.query(`SELECT ensure_partitions('user_alerts', 'week', $1::timestamptz, $2::timestamptz)`, [then, now]);
    const past = (await partitions('user_alerts')).find((p) => p.upper_bound > then && p.upper_bound.getTime() - 7 * DAY <= then.getTime())!;
    hi = past.upper_bound;
    lo = new Date(hi.getTime() - 7 * DAY);
  });

  it('makes the partitions of the coming periods', async () => {
    const now = new Date();
    const reaches = async (table: string) => Math.max(...(await partitions(table)).map((p) => p.upper_bound.getTime()));
    // the migrations made this period's and those ahead, so a new database writes no row to a default partition
    expect(await reaches('user_alerts')).toBeGreaterThan(now.getTime() + 4 * 7 * DAY);
    expect(await reaches('appointment_events')).toBeGreaterThan(now.getTime() + 58 * DAY);
    expect(await reaches('audit_logs')).toBeGreaterThan(now.getTime() + 58 * DAY);
    const { rows } = await ctx.pool.query(
      `INSERT INTO user_alerts (user_id, slot_id, release_id) VALUES ($1, $2, -1) RETURNING tableoid::regclass::text AS part`,
      [userId, slotId],
    );
    expect(rows[0].part).toMatch(/^user_alerts_p\d{8}$/);
    // a pass five weeks on makes the weeks that are then ahead
    const later = new Date(now.getTime() + 5 * 7 * DAY);
    const result = await runRetention(ctx.pool, DEFAULTS, later);
    expect(result.created.filter((p) => p.startsWith('user_alerts_p')).length).toBeGreaterThan(0);
    expect(await reaches('user_alerts')).toBeGreaterThan(later.getTime() + 4 * 7 * DAY);
    expect(await reaches('audit_logs')).toBeGreaterThan(later.getTime() + 58 * DAY);
    // a second pass makes nothing new
    expect((await runRetention(ctx.pool, DEFAULTS, later)).created).toEqual([]);
  });

  it('drops a week exactly when its upper bound is alert_retention_days old, and keeps the counts right', async () => {
    const name = `user_alerts_p${lo.toISOString().slice(0, 10).replace(/-/g, '')}`;
    // the week's newest alert, made the last millisecond of it
    await alert(new Date(hi.getTime() - 1), new Date(hi.getTime() - 1));
    await alert(new Date(lo.getTime() + 1000), new Date(lo.getTime() + 1000), 'FAILED');
    const before = await gaugeAndRows();
    expect(before.counted).toBe(before.rows);

    // a millisecond short of 90 days after the week ended: its newest alert is younger than 90 days
    const early = await runRetention(ctx.pool, DEFAULTS, new Date(hi.getTime() + 90 * DAY - 1));
    expect(early.dropped).not.toContain(name);
    expect(await exists(name)).toBe(true);

    // a longer retention keeps it at the very moment the default would drop it
    await runRetention(ctx.pool, { ...DEFAULTS, alert_retention_days: 91 }, new Date(hi.getTime() + 90 * DAY));
    expect(await exists(name)).toBe(true);

    const due = await runRetention(ctx.pool, DEFAULTS, new Date(hi.getTime() + 90 * DAY));
    expect(due.dropped).toContain(name);
    expect(await exists(name)).toBe(false);
    const after = await gaugeAndRows();
    expect(after.rows).toBe(before.rows - 2);
    expect(after.counted).toBe(after.rows);
  });

  it('keeps a week past its cutoff that holds an alert created after the cutoff', async () => {
    const weekHi = new Date(hi.getTime() + 7 * DAY);
    const name = `user_alerts_p${hi.toISOString().slice(0, 10).replace(/-/g, '')}`;
    // an id of that week but a created_at of later (an id given by hand): too young to go
    await alert(new Date(hi.getTime() + DAY), new Date(weekHi.getTime() + 2 * DAY));
    const now = new Date(weekHi.getTime() + 91 * DAY);
    const result = await runRetention(ctx.pool, DEFAULTS, now);
    expect(result.kept).toContain(name);
    expect(await exists(name)).toBe(true);
    // once that alert is 90 days old too, the week goes
    expect((await runRetention(ctx.pool, DEFAULTS, new Date(weekHi.getTime() + 92 * DAY))).dropped).toContain(name);
  });

  it('deletes old alerts of the default partition, in batches, through the table', async () => {
    const legacy = '4a1b2c3d-0000-4000-8000-000000000001'; // a random (v4) id: no week covers it
    await ctx.pool.query(`INSERT INTO user_alerts (id, user_id, slot_id, created_at, release_id) VALUES ($1, $2, $3, now() - interval '100 days', -2)`, [legacy, userId, slotId]);
    expect((await ctx.pool.query(`SELECT tableoid::regclass::text AS part FROM user_alerts WHERE id = $1`, [legacy])).rows[0].part).toBe('user_alerts_default');
    const result = await runRetention(ctx.pool, DEFAULTS, new Date());
    expect(result.deleted.defaultAlerts).toBe(1);
    const { counted, rows } = await gaugeAndRows();
    expect(counted).toBe(rows);
  });

  it('ages out processed releases, finished messages nothing points at, and past slots no appointment needs', async () => {
    const centerId = (await insertCenter(ctx.pool)).id;
    const now = new Date();
    const oldSlot = await insertSlot(ctx.pool, { centerId, start: new Date(now.getTime() - 400 * DAY) });
    const bookedSlot = await insertSlot(ctx.pool, { centerId, start: new Date(now.getTime() - 401 * DAY), status: 'BOOKED' });
    await insertAppointment(ctx.pool, { userId, slotId: bookedSlot.id, status: 'CONFIRMED' });
    const recentSlot = await insertSlot(ctx.pool, { centerId, start: new Date(now.getTime() - 10 * DAY) });
    await ctx.pool.query(`UPDATE slot_releases SET processed_at = $2::timestamptz WHERE slot_id = $1`, [recentSlot.id, new Date(now.getTime() - 31 * DAY)]);
    const unprocessed = await insertSlot(ctx.pool, { centerId, start: new Date(now.getTime() + 10 * DAY) });
    const { rows: msgs } = await ctx.pool.query<{ id: string }>(
      `INSERT INTO alert_messages (user_id, kind, status, created_at) VALUES ($1, 'single', 'SKIPPED', now() - interval '91 days'), ($1, 'single', 'SKIPPED', now() - interval '89 days') RETURNING id`,
      [userId],
    );
    const result = await runRetention(ctx.pool, DEFAULTS, now);
    expect(result.deleted.slots).toBe(1);
    const slots = (await ctx.pool.query(`SELECT id FROM time_slots WHERE id = ANY ($1::uuid[])`, [[oldSlot.id, bookedSlot.id, recentSlot.id]])).rows.map((r) => r.id);
    expect(slots.sort()).toEqual([bookedSlot.id, recentSlot.id].sort());
    expect((await ctx.pool.query(`SELECT count(*)::int AS n FROM slot_releases WHERE slot_id = $1`, [recentSlot.id])).rows[0].n).toBe(0);
    expect((await ctx.pool.query(`SELECT count(*)::int AS n FROM slot_releases WHERE slot_id = $1`, [unprocessed.id])).rows[0].n).toBe(1);
    const left = (await ctx.pool.query(`SELECT id FROM alert_messages WHERE id = ANY ($1::uuid[])`, [msgs.map((m) => m.id)])).rows.map((r) => r.id);
    expect(left).toEqual([msgs[1]!.id]);
  });

  it('drops a month of the audit log and booking history once it is audit_retention_days / event_retention_days old', async () => {
    const now = new Date();
    const old = new Date(now.getTime() - 800 * DAY);
    await ctx.pool.query(`SELECT ensure_partitions('audit_logs', 'month', $1::timestamptz, $1::timestamptz)`, [old]);
    await ctx.pool.query(`INSERT INTO audit_logs (action, created_at) VALUES ('test.old', $1), ('test.new', now())`, [old]);
    const month = `audit_logs_p${old.toISOString().slice(0, 7).replace('-', '')}01`;
    expect(await exists(month)).toBe(true);
    // with a longer retention it stays; with the default it goes
    await runRetention(ctx.pool, { ...DEFAULTS, audit_retention_days: 900 }, now);
    expect(await exists(month)).toBe(true);
    const result = await runRetention(ctx.pool, DEFAULTS, now);
    expect(result.dropped).toContain(month);
    const actions = (await ctx.pool.query(`SELECT action FROM audit_logs WHERE action LIKE 'test.%'`)).rows.map((r) => r.action);
    expect(actions).toEqual(['test.new']);
  });

  it('deletes expired sessions and old idempotency answers in batches, leaving live ones', async () => {
    const session = (expiredDaysAgo: number) =>
      ctx.pool.query(
        `INSERT INTO sessions (user_id, token_hash, created_at, expires_at)
         VALUES ($1, decode(md5(random()::text) || md5(random()::text), 'hex'), now() - make_interval(days => $2 + 30), now() - make_interval(days => $2)) RETURNING id`,
        [userId, expiredDaysAgo],
      );
    for (const d of [8, 9, 10]) await session(d);
    const live = (await session(-1)).rows[0].id;
    await ctx.pool.query(
      `INSERT INTO idempotency_keys (user_id, key, request, status_code, response, created_at)
       VALUES ($1, 'old-1', 'POST /x', 200, '{}', now() - interval '25 hours'), ($1, 'old-2', 'POST /x', 200, '{}', now() - interval '25 hours'),
              ($1, 'new-1', 'POST /x', 200, '{}', now())`,
      [userId],
    );
    // two rows a batch: the three expired sessions take two statements
    expect([await deleteStaleSessions(ctx.pool, 7, 2), await deleteStaleSessions(ctx.pool, 7, 2)]).toEqual([2, 1]);
    expect((await ctx.pool.query(`SELECT id FROM sessions WHERE user_id = $1`, [userId])).rows.map((r) => r.id)).toEqual([live]);
    expect(await inBatches((limit) => deleteOldAnswers(ctx.pool, 24, limit))).toBe(2);
    expect((await ctx.pool.query(`SELECT key FROM idempotency_keys WHERE user_id = $1`, [userId])).rows.map((r) => r.key)).toEqual(['new-1']);
  });
});
