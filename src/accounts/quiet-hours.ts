/** A user's own quiet hours (Europe/London wall-clock), when alerts wait rather than arrive. */
import type { Queryable } from '../db/types.js';

export interface QuietHours {
  /** HH:MM */
  start: string;
  /** HH:MM; before start means the quiet period runs past midnight */
  end: string;
}

/** The user's quiet hours, or null when they have none of their own. */
export async function getQuietHours(db: Queryable, userId: string): Promise<QuietHours | null> {
  const { rows } = await db.query<{ start: string | null; end: string | null }>(
    `SELECT to_char(quiet_hours_start, 'HH24:MI') AS start, to_char(quiet_hours_end, 'HH24:MI') AS end FROM users WHERE id = $1::uuid`,
    [userId],
  );
  const r = rows[0];
  return r?.start && r.end ? { start: r.start, end: r.end } : null;
}

/** Sets (or with null, clears) the user's quiet hours; the users_quiet_hours_pair check refuses start = end. */
export async function setQuietHours(db: Queryable, userId: string, q: QuietHours | null): Promise<void> {
  await db.query(`UPDATE users SET quiet_hours_start = $2::time, quiet_hours_end = $3::time WHERE id = $1::uuid`, [userId, q?.start ?? null, q?.end ?? null]);
}
