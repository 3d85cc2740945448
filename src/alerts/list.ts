/**
 * A learner's own alerts, as GET /api/me/alerts and the "Recent alerts" page show them:
 * newest first, paged by id (ids are time-ordered), each with its slot and what became of
 * it. Reads only.
 */
import type { Queryable } from '../db/types.js';
import type { TestType } from '../slots/test-types.js';

/** What became of an alert, as the learner is told. */
export type AlertOutcome = 'pending' | 'sending' | 'sent' | 'digested' | 'skipped' | 'capped' | 'failed';

export interface UserAlert {
  id: string;
  slot: { id: string; centre: string; testType: TestType; startTime: Date; free: boolean };
  status: AlertOutcome;
  /** Why it was skipped or failed. */
  reason: string | null;
  /** The message that carried it (or will): a digest's status is that of the message. */
  message: { id: string; kind: 'single' | 'digest'; status: 'pending' | 'sending' | 'sent' | 'skipped' | 'failed'; channel: 'email' | 'push' | null; sentAt: Date | null } | null;
  createdAt: Date;
}

export interface UserAlertsQuery {
  /** Only alerts older than this one (the previous page's last id). */
  before?: string;
  limit: number;
}

export async function listUserAlerts(db: Queryable, userId: string, q: UserAlertsQuery): Promise<{ items: UserAlert[]; nextBefore: string | null }> {
  const { rows } = await db.query<{
    id: string; slot_id: string; center_name: string; test_type: TestType; start_time: Date; free: boolean; status: string; last_error: string | null;
    message_id: string | null; kind: 'single' | 'digest' | null; message_status: string | null; channel: 'email' | 'push' | null; sent_at: Date | null; created_at: Date;
  }>(
    `SELECT a.id, a.slot_id, c.name AS center_name, s.test_type, s.start_time,
            s.status = 'AVAILABLE' AND s.start_time > now() AS free,
            a.status::text AS status, a.last_error,
            m.id AS message_id, m.kind, m.status::text AS message_status, m.channel::text AS channel, m.sent_at, a.created_at
       FROM user_alerts a
       JOIN time_slots s ON s.id = a.slot_id
       JOIN test_centers c ON c.id = s.center_id
       LEFT JOIN alert_messages m ON m.id = a.message_id
      WHERE a.user_id = $1::uuid AND ($2::uuid IS NULL OR a.id < $2::uuid)
      ORDER BY a.id DESC
      LIMIT $3::int`,
    [userId, q.before ?? null, q.limit + 1],
  );
  const more = rows.length > q.limit;
  const items = (more ? rows.slice(0, q.limit) : rows).map(
    (r): UserAlert => ({
      id: r.id,
      slot: { id: r.slot_id, centre: r.center_name, testType: r.test_type, startTime: r.start_time, free: r.free },
      status: r.status.toLowerCase() as AlertOutcome,
      reason: r.status === 'SKIPPED' || r.status === 'FAILED' ? r.last_error : null,
      message: r.message_id
        ? { id: r.message_id, kind: r.kind!, status: r.message_status!.toLowerCase() as 'sent', channel: r.channel, sentAt: r.sent_at }
        : null,
      createdAt: r.created_at,
    }),
  );
  return { items, nextBefore: more ? items.at(-1)!.id : null };
}

/**
 * The slots the learner was alerted to in the last day that are still free, soonest
 * first: the free slots near their watches that the message reaching their daily cap
 * points to.
 */
export async function freeAlertedSlots(db: Queryable, userId: string, limit = 100): Promise<UserAlert['slot'][]> {
  const { rows } = await db.query<{ id: string; center_name: string; test_type: TestType; start_time: Date }>(
    `SELECT DISTINCT s.id, c.name AS center_name, s.test_type, s.start_time
       FROM user_alerts a
       JOIN time_slots s ON s.id = a.slot_id
       JOIN test_centers c ON c.id = s.center_id
      WHERE a.user_id = $1::uuid AND a.created_at > now() - interval '1 day'
        AND s.status = 'AVAILABLE' AND s.start_time > now()
      ORDER BY s.start_time, s.id
      LIMIT $2::int`,
    [userId, limit],
  );
  return rows.map((r) => ({ id: r.id, centre: r.center_name, testType: r.test_type, startTime: r.start_time, free: true }));
}
