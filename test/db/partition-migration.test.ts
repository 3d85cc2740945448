/**
 * Migrations 0021 and 0022 over a database at 0020 with rows in it: every row moves into
 * the partitioned tables unchanged, into the partition of its time (ids from before
 * time-ordered ids into the default one), the constraints, foreign keys and counts hold,
 * the identity sequences continue, and the database can go back and forward again.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { insertCenter, insertSlot, insertUser } from '../helpers/factories.js';
import { expectRefused } from '../helpers/pg-errors.js';
import { useEmptyDatabase } from '../helpers/empty-database.js';

const DAY = 86_400_000;

function idAt(at: Date): string {
  const hex = at.getTime().toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

describe('migrations 0021 and 0022', () => {
  const emptyDatabase = useEmptyDatabase('part');

  it('move existing alerts, booking events and audit rows into partitions, keeping them and their constraints', async () => {
    const url = await emptyDatabase();
    await migrate({ databaseUrl: url, direction: 'up', count: 20 });
    const db = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const user = (await insertUser(db)).id;
      const centre = (await insertCenter(db)).id;
      const slot = (await insertSlot(db, { centerId: centre })).id;
      const now = Date.now();
      const weekAgo = idAt(new Date(now - 7 * DAY));
      const today = idAt(new Date(now));
      const legacy = '4a1b2c3d-0000-4000-8000-00000000abcd'; // written before ids were time-ordered
      const message = (await db.query(`INSERT INTO alert_messages (user_id, kind, status, sent_at, channel) VALUES ($1, 'single', 'SENT', now(), 'email') RETURNING id`, [user])).rows[0].id;
      await db.query(
        `INSERT INTO user_alerts (id, user_id, slot_id, release_id, status, sent, sent_at, channel, message_id, created_at)
         VALUES ($1, $4, $5, 1, 'SENT', true, now(), 'email', $6, now() - interval '7 days'),
                ($2, $4, $5, 2, 'PENDING', false, NULL, NULL, NULL, now()),
                ($3, $4, $5, NULL, 'FAILED', false, NULL, 'email', NULL, now() - interval '400 days')`,
        [weekAgo, today, legacy, user, slot, message],
      );
      const appointment = (await db.query(`INSERT INTO appointments (user_id, slot_id, status) VALUES ($1, $2, 'CONFIRMED') RETURNING id`, [user, slot])).rows[0].id;
      await db.query(
        `INSERT INTO appointment_events (appointment_id, event_type, to_status, created_at) VALUES ($1, 'CONFIRMED', 'CONFIRMED', now() - interval '60 days'), ($1, 'NOTE', NULL, now())`,
        [appointment],
      );
      await db.query(`INSERT INTO audit_logs (user_id, action, created_at) VALUES ($1, 'test.old', now() - interval '45 days'), ($1, 'test.now', now())`, [user]);
      const snapshot = async () => ({
        alerts: (await db.query(`SELECT * FROM user_alerts ORDER BY id`)).rows,
        events: (await db.query(`SELECT * FROM appointment_events ORDER BY id`)).rows,
        audit: (await db.query(`SELECT * FROM audit_logs ORDER BY id`)).rows,
        counts: (await db.query(`SELECT metric, labels, sum(value) AS v FROM (SELECT * FROM metric_counts UNION ALL SELECT metric, labels, value FROM metric_count_changes) c GROUP BY 1, 2 ORDER BY 1, 2::text`)).rows,
      });
      const before = await snapshot();

      await migrate({ databaseUrl: url, direction: 'up' });

      expect(await snapshot()).toEqual(before);
      const where = async (table: string, id: string) => (await db.query(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE id = $1`, [id])).rows[0].p;
      expect(await where('user_alerts', legacy)).toBe('user_alerts_default');
      expect(await where('user_alerts', weekAgo)).toMatch(/^user_alerts_p\d{8}$/);
      expect(await where('user_alerts', weekAgo)).not.toBe(await where('user_alerts', today));
      expect(await where('audit_logs', before.audit[0].id)).toMatch(/^audit_logs_p\d{8}$/);
      expect(await where('appointment_events', before.events[0].id)).toMatch(/^appointment_events_p\d{8}$/);
      // the partitions of the coming weeks exist already
      const { rows: ahead } = await db.query(`SELECT max(upper_bound) AS m FROM partitions_of('user_alerts')`);
      expect(ahead[0].m.getTime()).toBeGreaterThan(now + 27 * DAY);

      // the dedupe key still holds: the matcher's insert of an existing (slot, user, release) does nothing
      const again = await db.query(`INSERT INTO user_alerts (user_id, slot_id, release_id) VALUES ($1, $2, 2) ON CONFLICT DO NOTHING RETURNING id`, [user, slot]);
      expect(again.rowCount).toBe(0);
      // constraints and foreign keys came along
      await expectRefused(db.query(`INSERT INTO user_alerts (user_id, slot_id, attempts) VALUES ($1, $2, -1)`, [user, slot]), '23514', 'user_alerts_attempts');
      await expectRefused(db.query(`INSERT INTO user_alerts (user_id, slot_id) VALUES (gen_random_uuid(), $1)`, [slot]), '23503', 'user_alerts_user_id_fkey');
      await expectRefused(db.query(`INSERT INTO user_alerts (id, user_id, slot_id, release_id) VALUES ($1, $2, $3, 9)`, [today, user, slot]), '23505'); // the partition's own primary key index reports it
      await expectRefused(db.query(`INSERT INTO audit_logs (action) VALUES ('Bad Action')`), '23514', 'audit_logs_action_format');
      await expectRefused(db.query(`INSERT INTO appointment_events (appointment_id, event_type) VALUES (gen_random_uuid(), 'NOTE')`), '23503', 'appointment_events_appointment_id_fkey');
      // a message deleted leaves its alert without one
      await db.query(`DELETE FROM alert_messages WHERE id = $1`, [message]);
      expect((await db.query(`SELECT message_id FROM user_alerts WHERE id = $1`, [weekAgo])).rows[0].message_id).toBeNull();
      // the sequences continue past the moved rows
      const next = (await db.query(`INSERT INTO audit_logs (action) VALUES ('test.next') RETURNING id`)).rows[0].id;
      expect(Number(next)).toBeGreaterThan(Number(before.audit.at(-1).id));
      const nextEvent = (await db.query(`INSERT INTO appointment_events (appointment_id, event_type) VALUES ($1, 'NOTE') RETURNING id`, [appointment])).rows[0].id;
      expect(Number(nextEvent)).toBeGreaterThan(Number(before.events.at(-1).id));
      // the counting triggers are on the new tables
      const pending = async () => Number((await db.query(`SELECT coalesce(sum(value), 0) AS n FROM (SELECT * FROM metric_counts UNION ALL SELECT metric, labels, value FROM metric_count_changes) c WHERE metric = 'alerts' AND labels->>'status' = 'PENDING'`)).rows[0].n);
      const pendingBefore = await pending();
      await db.query(`INSERT INTO user_alerts (user_id, slot_id, release_id) VALUES ($1, $2, 3)`, [user, slot]);
      expect(await pending()).toBe(pendingBefore + 1);

      // back to 0020 and forward again, with the rows
      await migrate({ databaseUrl: url, direction: 'down', count: 2 });
      expect(Number((await db.query(`SELECT count(*) AS n FROM user_alerts`)).rows[0].n)).toBe(4);
      await migrate({ databaseUrl: url, direction: 'up' });
      expect(Number((await db.query(`SELECT count(*) AS n FROM user_alerts`)).rows[0].n)).toBe(4);
      expect(await where('user_alerts', legacy)).toBe('user_alerts_default');
    } finally {
      await db.end();
    }
  });
});
