/** The database itself refuses what would break an invariant. */
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestContext } from '../helpers/context.js';
import { insertAppointment, insertCenter, insertSlot, insertSpecialist, insertUser, insertWatch } from '../helpers/factories.js';
import { expectRefused } from '../helpers/pg-errors.js';

const ctx = useTestContext();
const CHECK = '23514';
const UNIQUE = '23505';
const EXCLUSION = '23P01';
const BAD_ENUM = '22P02';
const FOREIGN_KEY = '23503';

let centerId: string;
beforeEach(async () => {
  centerId = (await insertCenter(ctx.pool)).id;
});

describe('time slots', () => {
  it('refuse a start that is not before the end', async () => {
    const start = new Date('2031-05-01T09:00:00Z');
    await expectRefused(insertSlot(ctx.pool, { centerId, start, minutes: 0 }), CHECK, 'time_slots_start_before_end');
    await expectRefused(insertSlot(ctx.pool, { centerId, start, minutes: -30 }), CHECK, 'time_slots_start_before_end');
    await expect(insertSlot(ctx.pool, { centerId, start, minutes: 1 })).resolves.toBeDefined();
  });

  it('refuse an unknown test type or status', async () => {
    await expectRefused(insertSlot(ctx.pool, { centerId, testType: 'motorcycle' }), BAD_ENUM);
    await expectRefused(insertSlot(ctx.pool, { centerId, status: 'MAYBE' }), BAD_ENUM);
  });

  it('refuse an examiner in two overlapping slots, and a slot away from its examiner’s centre', async () => {
    const specialist = await insertSpecialist(ctx.pool, centerId);
    const start = new Date('2031-06-01T09:00:00Z');
    await insertSlot(ctx.pool, { centerId, specialistId: specialist.id, start, minutes: 60 });
    await expectRefused(
      insertSlot(ctx.pool, { centerId, specialistId: specialist.id, start: new Date('2031-06-01T09:30:00Z') }),
      EXCLUSION,
      'time_slots_specialist_no_overlap',
    );
    // back to back is fine
    await insertSlot(ctx.pool, { centerId, specialistId: specialist.id, start: new Date('2031-06-01T10:00:00Z') });
    const elsewhere = await insertCenter(ctx.pool);
    await expectRefused(
      insertSlot(ctx.pool, { centerId: elsewhere.id, specialistId: specialist.id, start: new Date('2031-06-02T09:00:00Z') }),
      FOREIGN_KEY,
      'time_slots_specialist_center_fkey',
    );
  });
});

describe('appointments', () => {
  it('refuse two active appointments on one slot, while a cancelled one does not block a new hold', async () => {
    const slot = await insertSlot(ctx.pool, { centerId });
    const [a, b, c] = [await insertUser(ctx.pool), await insertUser(ctx.pool), await insertUser(ctx.pool)];
    const first = await insertAppointment(ctx.pool, { userId: a.id, slotId: slot.id });
    await expectRefused(insertAppointment(ctx.pool, { userId: b.id, slotId: slot.id }), UNIQUE, 'appointments_one_active_per_slot');
    await ctx.pool.query(`UPDATE appointments SET status = 'CONFIRMED' WHERE id = $1`, [first.id]);
    await expectRefused(
      insertAppointment(ctx.pool, { userId: b.id, slotId: slot.id, status: 'CONFIRMED' }),
      UNIQUE,
      'appointments_one_active_per_slot',
    );
    await ctx.pool.query(`UPDATE appointments SET status = 'CANCELLED' WHERE id = $1`, [first.id]);
    await expect(insertAppointment(ctx.pool, { userId: b.id, slotId: slot.id })).resolves.toBeDefined();
    await expectRefused(insertAppointment(ctx.pool, { userId: c.id, slotId: slot.id }), UNIQUE, 'appointments_one_active_per_slot');
  });

  it('refuse the second of two concurrent inserts on one slot: the index is the last line of defence', async () => {
    const slot = await insertSlot(ctx.pool, { centerId });
    const [a, b] = [await insertUser(ctx.pool), await insertUser(ctx.pool)];
    const one = await ctx.pool.connect();
    const two = await ctx.pool.connect();
    try {
      await one.query('BEGIN');
      await two.query('BEGIN');
      await insertAppointment(one, { userId: a.id, slotId: slot.id });
      const second = insertAppointment(two, { userId: b.id, slotId: slot.id }); // waits on one's uncommitted row
      await one.query('COMMIT');
      await expectRefused(second, UNIQUE, 'appointments_one_active_per_slot');
      await two.query('ROLLBACK');
    } finally {
      one.release();
      two.release();
    }
    const { rows } = await ctx.pool.query(`SELECT user_id FROM appointments WHERE slot_id = $1`, [slot.id]);
    expect(rows).toEqual([{ user_id: a.id }]);
  });

  it('refuse one user holding two active appointments that overlap in time', async () => {
    const user = await insertUser(ctx.pool);
    const other = await insertCenter(ctx.pool);
    const start = new Date('2031-07-01T09:00:00Z');
    const here = await insertSlot(ctx.pool, { centerId, start, minutes: 60 });
    // theory slots: one practical and one theory test may both be booked, so only the overlap is at stake
    const there = await insertSlot(ctx.pool, { centerId: other.id, start: new Date('2031-07-01T09:30:00Z'), minutes: 60, testType: 'theory' });
    const later = await insertSlot(ctx.pool, { centerId: other.id, start: new Date('2031-07-01T10:00:00Z'), minutes: 60, testType: 'theory' });
    await insertAppointment(ctx.pool, { userId: user.id, slotId: here.id, status: 'CONFIRMED' });
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: there.id }), EXCLUSION, 'appointments_user_no_overlap');
    await expectRefused(
      insertAppointment(ctx.pool, { userId: user.id, slotId: there.id, status: 'CONFIRMED' }),
      EXCLUSION,
      'appointments_user_no_overlap',
    );
    // touching end to start is not an overlap, and a cancelled one blocks nothing
    await expect(insertAppointment(ctx.pool, { userId: user.id, slotId: later.id })).resolves.toBeDefined();
    await ctx.pool.query(`UPDATE appointments SET status = 'CANCELLED' WHERE user_id = $1 AND slot_id = $2`, [user.id, later.id]);
    await expect(insertAppointment(ctx.pool, { userId: user.id, slotId: later.id, status: 'CANCELLED', expiresAt: null })).resolves.toBeDefined();
  });

  it('keep the overlap rule when a slot is moved onto another of the user’s bookings', async () => {
    const user = await insertUser(ctx.pool);
    const other = await insertCenter(ctx.pool);
    const a = await insertSlot(ctx.pool, { centerId, start: new Date('2031-08-01T09:00:00Z'), minutes: 60 });
    const b = await insertSlot(ctx.pool, { centerId: other.id, start: new Date('2031-08-01T12:00:00Z'), minutes: 60, testType: 'theory' });
    await insertAppointment(ctx.pool, { userId: user.id, slotId: a.id, status: 'CONFIRMED' });
    await insertAppointment(ctx.pool, { userId: user.id, slotId: b.id, status: 'CONFIRMED' });
    await expectRefused(
      ctx.pool.query(`UPDATE time_slots SET start_time = '2031-08-01T09:30:00Z', end_time = '2031-08-01T10:30:00Z' WHERE id = $1`, [b.id]),
      EXCLUSION,
      'appointments_user_no_overlap',
    );
  });

  it('refuse a second concurrent hold by the same user', async () => {
    const user = await insertUser(ctx.pool);
    const s1 = await insertSlot(ctx.pool, { centerId });
    const s2 = await insertSlot(ctx.pool, { centerId, testType: 'theory' });
    await insertAppointment(ctx.pool, { userId: user.id, slotId: s1.id });
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: s2.id }), UNIQUE, 'appointments_one_hold_per_user');
    await expect(insertAppointment(ctx.pool, { userId: user.id, slotId: s2.id, status: 'CONFIRMED' })).resolves.toBeDefined();
  });

  it('refuse a hold without an expiry, an unknown status and a missing slot', async () => {
    const user = await insertUser(ctx.pool);
    const slot = await insertSlot(ctx.pool, { centerId });
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: slot.id, expiresAt: null }), CHECK, 'appointments_hold_has_expiry');
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: slot.id, status: 'PENCILLED' }), BAD_ENUM);
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: '00000000-0000-4000-8000-000000000000' }), '23502');
  });

  it('refuse a second live appointment of one test type per user; another type, a past test, a cancel and an erased user block nothing', async () => {
    const user = await insertUser(ctx.pool);
    const day = (d: number) => new Date(Date.now() + d * 86_400_000);
    const [a, b, c] = [await insertSlot(ctx.pool, { centerId, start: day(10) }), await insertSlot(ctx.pool, { centerId, start: day(11) }), await insertSlot(ctx.pool, { centerId, start: day(12) })];
    const booked = await insertAppointment(ctx.pool, { userId: user.id, slotId: a.id, status: 'CONFIRMED' });
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: b.id }), EXCLUSION, 'appointments_one_per_test_type');
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: b.id, status: 'CONFIRMED' }), EXCLUSION, 'appointments_one_per_test_type');
    // a theory test beside the practical one
    const theory = await insertSlot(ctx.pool, { centerId, start: day(15), testType: 'theory' });
    await expect(insertAppointment(ctx.pool, { userId: user.id, slotId: theory.id, status: 'CONFIRMED' })).resolves.toBeDefined();
    // the copy of the slot's test type follows the slot
    await expectRefused(ctx.pool.query(`UPDATE time_slots SET test_type = 'practical' WHERE id = $1`, [theory.id]), EXCLUSION, 'appointments_one_per_test_type');
    // the practical test taken (booked a month ago, ended yesterday) no longer counts
    await ctx.pool.query(`UPDATE appointments SET created_at = now() - interval '30 days' WHERE id = $1`, [booked.id]);
    await ctx.pool.query(`UPDATE time_slots SET start_time = now() - interval '1 day', end_time = now() - interval '1 day' + interval '57 minutes' WHERE id = $1`, [a.id]);
    const next = await insertAppointment(ctx.pool, { userId: user.id, slotId: b.id, status: 'CONFIRMED' });
    await expectRefused(insertAppointment(ctx.pool, { userId: user.id, slotId: c.id }), EXCLUSION, 'appointments_one_per_test_type');
    await ctx.pool.query(`UPDATE appointments SET status = 'CANCELLED', cancelled_at = now() WHERE id = $1`, [next.id]);
    await expect(insertAppointment(ctx.pool, { userId: user.id, slotId: c.id })).resolves.toBeDefined();
    // the records of erased accounts (user_id NULL) are nobody's, so never each other's
    const [d, e] = [await insertSlot(ctx.pool, { centerId, start: day(20) }), await insertSlot(ctx.pool, { centerId, start: day(21) })];
    await ctx.pool.query(`INSERT INTO appointments (user_id, slot_id, status) VALUES (NULL, $1, 'CONFIRMED'), (NULL, $2, 'CONFIRMED')`, [d.id, e.id]);
  });

  it('refuse the second of two concurrent bookings of one test type by one user', async () => {
    const user = await insertUser(ctx.pool);
    const [s1, s2] = [await insertSlot(ctx.pool, { centerId }), await insertSlot(ctx.pool, { centerId })];
    const one = await ctx.pool.connect();
    const two = await ctx.pool.connect();
    try {
      await one.query('BEGIN');
      await two.query('BEGIN');
      await insertAppointment(one, { userId: user.id, slotId: s1.id, status: 'CONFIRMED' });
      const second = insertAppointment(two, { userId: user.id, slotId: s2.id, status: 'CONFIRMED' }); // waits on one's row
      await one.query('COMMIT');
      await expectRefused(second, EXCLUSION, 'appointments_one_per_test_type');
      await two.query('ROLLBACK');
    } finally {
      one.release();
      two.release();
    }
  });
});

describe('users', () => {
  it.each(['not-an-email', 'a@b', 'two words@example.com', '@example.com', 'x@example.c', 'x@@example.com'])(
    'refuse the email %j',
    async (email) => {
      await expectRefused(insertUser(ctx.pool, { email }), CHECK, 'users_email_format');
    },
  );

  it('refuse a duplicate email in any letter case', async () => {
    await insertUser(ctx.pool, { email: 'Learner.One@Example.com' });
    await expectRefused(insertUser(ctx.pool, { email: 'learner.one@example.com' }), UNIQUE, 'users_email_lower_key');
    await expectRefused(insertUser(ctx.pool, { email: 'LEARNER.ONE@EXAMPLE.COM' }), UNIQUE, 'users_email_lower_key');
  });

  it('refuse an unknown role', async () => {
    await expectRefused(insertUser(ctx.pool, { role: 'SUPERUSER' }), BAD_ENUM);
  });
});

describe('watches and centres', () => {
  it.each([-5, 0, 100.01, 5000])('refuse the radius %d miles', async (radiusMiles) => {
    const user = await insertUser(ctx.pool);
    await expectRefused(insertWatch(ctx.pool, { userId: user.id, radiusMiles }), CHECK, 'user_preferences_radius_range');
  });

  it('refuse an absurd radius that does not even fit the column', async () => {
    const user = await insertUser(ctx.pool);
    await expectRefused(insertWatch(ctx.pool, { userId: user.id, radiusMiles: 1e7 }), '22003');
  });

  it.each([
    [91, 0, 'latitude'],
    [-90.5, 0, 'latitude'],
    [0, 180.1, 'longitude'],
    [0, -181, 'longitude'],
  ])('refuse the point (%d, %d) off the globe', async (latitude, longitude, which) => {
    const user = await insertUser(ctx.pool);
    await expectRefused(insertWatch(ctx.pool, { userId: user.id, latitude, longitude }), CHECK, `user_preferences_${which}_range`);
    await expectRefused(insertCenter(ctx.pool, { latitude, longitude }), CHECK, `test_centers_${which}_range`);
  });

  it('keep the geography point in step with latitude and longitude', async () => {
    const { id } = await insertCenter(ctx.pool, { latitude: 57.18105, longitude: -2.11902 });
    await ctx.pool.query(`UPDATE test_centers SET latitude = 51.0 WHERE id = $1`, [id]);
    const { rows } = await ctx.pool.query(`SELECT ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon FROM test_centers WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ lat: 51.0, lon: -2.11902 });
  });

  it.each([[['motorcycle']], [[]], ['practical'], [[1]], [['practical', 'lorry']]])('refuse the test types %j', async (testTypes) => {
    const user = await insertUser(ctx.pool);
    await expectRefused(insertWatch(ctx.pool, { userId: user.id, testTypes }), CHECK, 'user_preferences_test_types');
  });

  it('refuse an unknown method and a date window that ends before it starts', async () => {
    const user = await insertUser(ctx.pool);
    await expectRefused(insertWatch(ctx.pool, { userId: user.id, method: 'sms' }), BAD_ENUM);
    const w = await insertWatch(ctx.pool, { userId: user.id, testTypes: ['practical', 'theory'] });
    await expectRefused(
      ctx.pool.query(`UPDATE user_preferences SET earliest_date = '2031-02-01', latest_date = '2031-01-01' WHERE id = $1`, [w.id]),
      CHECK,
      'user_preferences_date_window',
    );
  });
});

describe('alerts and push subscriptions', () => {
  it('refuse a second alert for one user, slot and release, and sent without status SENT', async () => {
    const user = await insertUser(ctx.pool);
    const slot = await insertSlot(ctx.pool, { centerId });
    await ctx.pool.query(`INSERT INTO user_alerts (user_id, slot_id) VALUES ($1, $2)`, [user.id, slot.id]);
    // the key is a unique index of each partition (user_alerts is partitioned by week)
    const key = (await ctx.pool.query(`SELECT tableoid::regclass::text || '_slot_user_release_key' AS k FROM user_alerts WHERE user_id = $1`, [user.id])).rows[0].k;
    // no release (rows from before releases were recorded) counts as one release
    await expectRefused(ctx.pool.query(`INSERT INTO user_alerts (user_id, slot_id) VALUES ($1, $2)`, [user.id, slot.id]), UNIQUE, key);
    await ctx.pool.query(`INSERT INTO user_alerts (user_id, slot_id, release_id) VALUES ($1, $2, 7)`, [user.id, slot.id]);
    await expectRefused(
      ctx.pool.query(`INSERT INTO user_alerts (user_id, slot_id, release_id) VALUES ($1, $2, 7)`, [user.id, slot.id]),
      UNIQUE,
      key,
    );
    await expectRefused(ctx.pool.query(`UPDATE user_alerts SET sent = true, sent_at = now()`), CHECK, 'user_alerts_sent_matches_status');
  });

  it('refuse a duplicate push endpoint and malformed keys', async () => {
    const user = await insertUser(ctx.pool);
    const insert = (endpoint: string, p256dh = 'B'.repeat(87), auth = 'a'.repeat(22)) =>
      ctx.pool.query(`INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)`, [user.id, endpoint, p256dh, auth]);
    await insert('https://push.example.com/abc');
    await expectRefused(insert('https://push.example.com/abc'), UNIQUE, 'push_subscriptions_endpoint_key');
    await expectRefused(insert('javascript:alert(1)'), CHECK, 'push_subscriptions_endpoint_format');
    await expectRefused(insert('https://push.example.com/x', 'not base64!'), CHECK, 'push_subscriptions_p256dh_format');
  });
});
