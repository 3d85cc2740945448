/** Migration 0019 over bookings that already break the one-per-test-type rule: it succeeds, keeps them all, and enforces the rule. */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';
import { expectRefused } from '../helpers/pg-errors.js';
import { useEmptyDatabase } from '../helpers/empty-database.js';

describe('migration 0019', () => {
  const emptyDatabase = useEmptyDatabase('lim');

  it('keeps existing double bookings, marking all but the first, and refuses new ones', async () => {
    const url = await emptyDatabase();
    await migrate({ databaseUrl: url, direction: 'up', count: 18 });
    const db = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const centre = await insertCenter(db);
      const day = (d: number) => new Date(Date.now() + d * 86_400_000);
      const slot = (d: number, testType = 'practical') => insertSlot(db, { centerId: centre.id, start: day(d), testType }).then((s) => s.id);
      const user = async (email: string) => (await db.query<{ id: string }>(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [email])).rows[0]!.id;
      const hoarder = await user('hoarder@limit.test');
      const fair = await user('fair@limit.test');
      // as the schema of migration 18 allowed: three practical bookings in a row, taken a minute apart
      const booking = async (userId: string | null, slotId: string, minutesAgo: number, status = 'CONFIRMED') =>
        (
          await db.query<{ id: string }>(
            `INSERT INTO appointments (user_id, slot_id, status, expires_at, created_at)
             VALUES ($1, $2, $3::appointment_status, CASE WHEN $3 = 'HOLD' THEN now() + interval '5 minutes' END, now() - $4::int * interval '1 minute') RETURNING id`,
            [userId, slotId, status, minutesAgo],
          )
        ).rows[0]!.id;
      const first = await booking(hoarder, await slot(10), 3);
      const second = await booking(hoarder, await slot(11), 2);
      const third = await booking(hoarder, await slot(12), 1, 'HOLD');
      const theory = await booking(hoarder, await slot(13, 'theory'), 1);
      const fairOne = await booking(fair, await slot(14), 5);
      const erased = [await booking(null, await slot(15), 9), await booking(null, await slot(16), 8)];

      await migrate({ databaseUrl: url, direction: 'up' });

      const { rows } = await db.query<{ id: string; test_type: string; predates_booking_limit: boolean; status: string }>(
        `SELECT id, test_type::text, predates_booking_limit, status::text FROM appointments`,
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(rows.every((r) => r.status !== 'CANCELLED')).toBe(true); // nobody lost a booking
      expect([first, second, third, theory, fairOne, ...erased].map((id) => byId.get(id)!.predates_booking_limit)).toEqual([false, true, true, false, false, false, false]);
      expect(byId.get(theory)!.test_type).toBe('theory');
      // the first booking still counts: no fourth
      await expectRefused(booking(hoarder, await slot(17), 0), '23P01', 'appointments_one_per_test_type');
      await expectRefused(booking(fair, await slot(18), 0), '23P01', 'appointments_one_per_test_type');
      // the database can go back a step and forward again
      await migrate({ databaseUrl: url, direction: 'down', count: 1 });
      await migrate({ databaseUrl: url, direction: 'up' });
    } finally {
      await db.end();
    }
  });
});
