/** Matching rules: radius, test type, date window (Europe/London), active flags, once per user and slot. */
import { beforeEach, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/transaction.js';
import { eachLearnerFirst, matchReleaseBatch } from '../../src/alerts/match.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertSlot, insertUser } from '../helpers/factories.js';

const ctx = useTestContext();

// London; a mile north is about 0.01447 degrees of latitude
const LAT = 51.5;
const LON = -0.12;

async function watch(o: {
  userId: string;
  latitude?: number;
  radiusMiles?: number;
  testTypes?: string[];
  earliest?: string | null;
  latest?: string | null;
  active?: boolean;
  method?: 'email' | 'push';
}) {
  const { rows } = await ctx.pool.query<{ id: string }>(
    `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, preferred_test_types, earliest_date, latest_date, is_active,
                                   notification_method)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::date, $7::date, $8, $9::notification_method) RETURNING id`,
    [
      o.userId,
      o.latitude ?? LAT,
      LON,
      o.radiusMiles ?? 10,
      JSON.stringify(o.testTypes ?? ['practical']),
      o.earliest ?? null,
      o.latest ?? null,
      o.active ?? true,
      o.method ?? 'email',
    ],
  );
  return rows[0]!.id;
}

async function drain() {
  let alerts = 0;
  for (;;) {
    const b = await matchReleaseBatch(ctx.pool, 50);
    alerts += b.alerts.length;
    if (b.releases === 0) return alerts;
  }
}

async function alertedUsers(slotId: string) {
  const { rows } = await ctx.pool.query<{ user_id: string }>(`SELECT user_id FROM user_alerts WHERE slot_id = $1 ORDER BY user_id`, [slotId]);
  return rows.map((r) => r.user_id).sort();
}

async function unprocessed() {
  const { rows } = await ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM slot_releases WHERE processed_at IS NULL`);
  return rows[0]!.n;
}

describe('matching released slots to watches', () => {
  // each test places its own watches at the same spot: earlier tests' watches are retired
  beforeEach(async () => {
    await ctx.pool.query(`UPDATE user_preferences SET is_active = false`);
    await drain();
  });

  it('alerts exactly the active watches of active users within radius, of the test type and dates', async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const ok = await insertUser(ctx.pool);
    const far = await insertUser(ctx.pool);
    const theoryOnly = await insertUser(ctx.pool);
    const both = await insertUser(ctx.pool);
    const tooLate = await insertUser(ctx.pool);
    const tooEarly = await insertUser(ctx.pool);
    const inWindow = await insertUser(ctx.pool);
    const inactiveUser = await insertUser(ctx.pool, { isActive: false });
    const inactiveWatch = await insertUser(ctx.pool);
    await watch({ userId: ok.id, latitude: LAT + 0.0144 * 5, radiusMiles: 6 }); // ~5 miles away, radius 6
    await watch({ userId: far.id, latitude: LAT + 0.0145 * 7, radiusMiles: 6 }); // ~7 miles away
    await watch({ userId: theoryOnly.id, testTypes: ['theory'] });
    await watch({ userId: both.id, testTypes: ['theory', 'practical'] });
    // 2031-06-30 23:30 UTC is 00:30 on 1 July in London (BST)
    await watch({ userId: tooLate.id, latest: '2031-06-30' });
    await watch({ userId: tooEarly.id, earliest: '2031-07-02' });
    await watch({ userId: inWindow.id, earliest: '2031-07-01', latest: '2031-07-01' });
    await watch({ userId: inactiveUser.id });
    await watch({ userId: inactiveWatch.id, active: false });

    const slot = await insertSlot(ctx.pool, { centerId, start: new Date('2031-06-30T23:30:00Z') });
    expect(await drain()).toBe(3);
    expect(await alertedUsers(slot.id)).toEqual([ok.id, both.id, inWindow.id].sort());
    expect(await unprocessed()).toBe(0);
    const { rows } = await ctx.pool.query<{ alerts_created: number }>(`SELECT alerts_created FROM slot_releases WHERE slot_id = $1`, [slot.id]);
    expect(rows).toEqual([{ alerts_created: 3 }]);
  });

  it('alerts a user once per slot: a slot released twice, three overlapping watches', async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const user = await insertUser(ctx.pool);
    await watch({ userId: user.id, latitude: LAT + 0.01, radiusMiles: 30 });
    const nearest = await watch({ userId: user.id, radiusMiles: 5 });
    await watch({ userId: user.id, latitude: LAT + 0.05, radiusMiles: 20 });
    const slot = await insertSlot(ctx.pool, { centerId });
    const setStatus = (status: string) => ctx.pool.query(`UPDATE time_slots SET status = $2::timeslot_status WHERE id = $1`, [slot.id, status]);
    // released twice before the matcher runs: both releases land in one batch
    await setStatus('HOLD');
    await setStatus('AVAILABLE');
    expect(await drain()).toBe(1);
    // and once more after it ran
    await setStatus('HOLD');
    await setStatus('AVAILABLE');
    expect(await drain()).toBe(0);
    const { rows } = await ctx.pool.query(`SELECT preference_id, channel::text, status::text FROM user_alerts WHERE slot_id = $1`, [slot.id]);
    expect(rows).toEqual([{ preference_id: nearest, channel: 'email', status: 'PENDING' }]);
    const releases = await ctx.pool.query<{ n: number; alerts: number }>(
      `SELECT count(*)::int AS n, sum(alerts_created)::int AS alerts FROM slot_releases WHERE slot_id = $1 AND processed_at IS NOT NULL`,
      [slot.id],
    );
    expect(releases.rows).toEqual([{ n: 3, alerts: 1 }]);
  });

  it('matches slot dates far in the past and future exactly (open window ends are -infinity and infinity)', async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const open = await insertUser(ctx.pool);
    const old = await insertUser(ctx.pool);
    const wrongOld = await insertUser(ctx.pool);
    await watch({ userId: open.id });
    await watch({ userId: old.id, earliest: '1999-01-01', latest: '1999-12-31' });
    await watch({ userId: wrongOld.id, earliest: '1998-01-01', latest: '1998-12-31' });
    const past = await insertSlot(ctx.pool, { centerId, start: new Date('1999-06-01T09:00:00Z') });
    const future = await insertSlot(ctx.pool, { centerId, start: new Date('2250-06-01T09:00:00Z') });
    expect(await drain()).toBe(3);
    expect(await alertedUsers(past.id)).toEqual([open.id, old.id].sort());
    expect(await alertedUsers(future.id)).toEqual([open.id]);
  });

  it("follows a user's active flag changed after their watches were made", async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const user = await insertUser(ctx.pool);
    await watch({ userId: user.id });
    await watch({ userId: user.id, radiusMiles: 20 });
    const setActive = (active: boolean) => ctx.pool.query(`UPDATE users SET is_active = $2 WHERE id = $1`, [user.id, active]);
    await setActive(false);
    const whileInactive = await insertSlot(ctx.pool, { centerId });
    expect(await drain()).toBe(0);
    // a watch made while the user is inactive takes the user's flag too
    await watch({ userId: user.id, radiusMiles: 30 });
    expect(await drain()).toBe(0);
    await setActive(true);
    const afterwards = await insertSlot(ctx.pool, { centerId });
    expect(await drain()).toBe(1);
    expect(await alertedUsers(whileInactive.id)).toEqual([]);
    expect(await alertedUsers(afterwards.id)).toEqual([user.id]);
    // the flag on the watch cannot be set apart from the user's
    await ctx.pool.query(`UPDATE user_preferences SET user_active = false WHERE user_id = $1`, [user.id]);
    const { rows } = await ctx.pool.query(`SELECT DISTINCT user_active FROM user_preferences WHERE user_id = $1`, [user.id]);
    expect(rows).toEqual([{ user_active: true }]);
  });

  it("writes each alert with its user's tier, as it is when the slot is matched", async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const user = await insertUser(ctx.pool, { priority: 'VIP' });
    await watch({ userId: user.id });
    await ctx.pool.query(`UPDATE users SET priority = 'URGENT' WHERE id = $1`, [user.id]);
    const slot = await insertSlot(ctx.pool, { centerId });
    const batch = await matchReleaseBatch(ctx.pool, 50);
    expect(batch.alerts.map((a) => a.priority)).toEqual(['URGENT']);
    const { rows } = await ctx.pool.query(`SELECT priority::text FROM user_alerts WHERE slot_id = $1`, [slot.id]);
    expect(rows).toEqual([{ priority: 'URGENT' }]);
  });

  it("returns each new alert's channel: the method of the user's nearest covering watch", async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const pushNear = await insertUser(ctx.pool);
    const emailOnly = await insertUser(ctx.pool);
    await watch({ userId: pushNear.id, latitude: LAT + 0.0145, radiusMiles: 5, method: 'push' });
    await watch({ userId: pushNear.id, latitude: LAT + 0.0145 * 3, radiusMiles: 20, method: 'email' });
    await watch({ userId: emailOnly.id, method: 'email' });
    const slot = await insertSlot(ctx.pool, { centerId });
    const batch = await matchReleaseBatch(ctx.pool, 50);
    const byUser = new Map(
      (await ctx.pool.query<{ id: string; user_id: string }>(`SELECT id, user_id FROM user_alerts WHERE slot_id = $1`, [slot.id])).rows.map((r) => [r.id, r.user_id]),
    );
    expect(batch.alerts.map((a) => [byUser.get(a.id), a.channel]).sort()).toEqual(
      [
        [pushNear.id, 'push'],
        [emailOnly.id, 'email'],
      ].sort(),
    );
  });

  it("deleting a slot deletes its alerts; deleting a watch leaves its alerts without a watch", async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const user = await insertUser(ctx.pool);
    const watchId = await watch({ userId: user.id });
    const kept = await insertSlot(ctx.pool, { centerId });
    const deleted = await insertSlot(ctx.pool, { centerId });
    expect(await drain()).toBe(2);
    await ctx.pool.query(`DELETE FROM time_slots WHERE id = $1`, [deleted.id]);
    expect(await alertedUsers(deleted.id)).toEqual([]);
    await ctx.pool.query(`DELETE FROM user_preferences WHERE id = $1`, [watchId]);
    const { rows } = await ctx.pool.query(`SELECT preference_id FROM user_alerts WHERE slot_id = $1`, [kept.id]);
    expect(rows).toEqual([{ preference_id: null }]);
  });

  it('writes no alert for a release whose slot is no longer available, and still marks it processed', async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const user = await insertUser(ctx.pool);
    await watch({ userId: user.id });
    const slot = await insertSlot(ctx.pool, { centerId });
    await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = $1`, [slot.id]);
    expect(await drain()).toBe(0);
    expect(await alertedUsers(slot.id)).toEqual([]);
    expect(await unprocessed()).toBe(0);
  });

  it('matches a release committed after a later one was already processed (out of id order)', async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: LAT, longitude: LON });
    const user = await insertUser(ctx.pool);
    await watch({ userId: user.id });
    let releaseEarly!: () => void;
    const gate = new Promise<void>((r) => (releaseEarly = r));
    let early!: { id: string };
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    // the earlier transaction takes the lower release id but commits last
    const slow = withTransaction(ctx.pool, async (tx) => {
      early = await insertSlot(tx, { centerId });
      inserted();
      await gate;
    });
    await insertedP;
    let late: { id: string };
    try {
      late = await insertSlot(ctx.pool, { centerId });
      expect(await drain()).toBe(1);
      expect(await alertedUsers(late.id)).toEqual([user.id]);
    } finally {
      releaseEarly();
      await slow;
    }
    const order = await ctx.pool.query<{ lower: boolean }>(
      `SELECT (SELECT id FROM slot_releases WHERE slot_id = $1) < (SELECT id FROM slot_releases WHERE slot_id = $2) AS lower`,
      [early.id, late.id],
    );
    expect(order.rows[0]!.lower).toBe(true);
    expect(await drain()).toBe(1);
    expect(await alertedUsers(early.id)).toEqual([user.id]);
  });
});

describe('the hand-off order', () => {
  it('puts one alert of each learner first, then the rest, each part in the order it came', () => {
    const alerts = [
      { id: 'a1', userId: 'a' },
      { id: 'a2', userId: 'a' },
      { id: 'b1', userId: 'b' },
      { id: 'a3', userId: 'a' },
      { id: 'c1', userId: 'c' },
      { id: 'b2', userId: 'b' },
    ];
    expect(eachLearnerFirst(alerts).map((a) => a.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'a3', 'b2']);
  });
});
