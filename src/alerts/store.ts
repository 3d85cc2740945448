/**
 * user_alerts: every statement that writes it. Matching inserts alerts for released
 * slots; the hand-off records when each went to its deliveries queue; a sender claims an
 * alert under a lease (with everything its message needs), renews the lease while it
 * sends, and records how it ended (SENT, SKIPPED, FAILED, or PENDING again to retry).
 * Reads that explain an alert's state are in state.ts.
 */
import type { Queryable } from '../db/types.js';
import type { TestType } from '../slots/test-types.js';
import { subscriptionsSucceededCte } from '../watches/push-subscriptions.js';
import type { NotificationMethod } from '../watches/watches.js';

/** How an alert goes out: the method of the watch that matched, unless delivery fell back to email. */
export type Channel = NotificationMethod;
export type PriorityTier = 'NORMAL' | 'VIP' | 'URGENT';

export interface NewAlert {
  id: string;
  slotId: string;
  /** The user's tier, which orders delivery. */
  priority: PriorityTier;
  /** The alert's channel: the method of the watch that matched; it picks the deliveries queue. */
  channel: Channel;
}

/**
 * Released slots -> alerts, as one set-based statement; $1 is the slot ids (exported for
 * the benchmark's EXPLAIN). Which live watches cover which centre (within its radius on
 * the WGS84 spheroid, per test type, with its date window) is settled when a watch or a
 * centre is written: watch_coverage, kept by triggers. So a released slot is an index-only
 * range scan on its centre, test type and date, and the work follows the matches, not the
 * number of watches.
 */
export const INSERT_ALERTS_SQL = `
WITH released AS (
  SELECT s.id AS slot_id, s.center_id, s.test_type,
         (s.start_time AT TIME ZONE 'Europe/London')::date AS slot_date
    FROM time_slots s
   WHERE s.id = ANY ($1::uuid[])
     AND s.status = 'AVAILABLE'
  -- user_alerts has no foreign key to its slot (it would cost a check per alert): this one
  -- lock per slot keeps the slot from being deleted while its alerts are written
     FOR KEY SHARE OF s
), candidates AS (
  -- every live watch whose coverage holds the slot's centre, type and date: an index-only
  -- scan of watch_coverage_match per slot. The released slots are sorted by id here
  -- (PostgreSQL 15 carries no order out of a CTE or through a row lock), so that this sort
  -- is incremental: one slot's candidates at a time, in memory, however big the batch.
  SELECT r.slot_id, w.user_id, w.distance_m, w.preference_id, w.notification_method, w.user_priority
    FROM (SELECT * FROM released ORDER BY slot_id) r
    JOIN watch_coverage w
      ON w.center_id = r.center_id AND w.test_type = r.test_type AND w.latest_date >= r.slot_date
   WHERE w.earliest_date <= r.slot_date
   ORDER BY r.slot_id, w.user_id, w.distance_m, w.preference_id
), matched AS (
  -- several watches of one user may cover the slot: keep the nearest, alert once. Apart
  -- from the sort above because PostgreSQL 15 sorts for DISTINCT ON only in full.
  SELECT DISTINCT ON (slot_id, user_id) *
    FROM candidates
   ORDER BY slot_id, user_id, distance_m, preference_id
)
INSERT INTO user_alerts (user_id, slot_id, preference_id, distance_m, channel, priority)
-- the unique key's order: one order for every writer keeps concurrent batches from
-- deadlocking on it, and a slot's alerts land side by side in it
SELECT user_id, slot_id, preference_id, distance_m, notification_method, user_priority FROM matched ORDER BY slot_id, user_id
ON CONFLICT (slot_id, user_id) DO NOTHING
-- the tier comes with the watch, so no users row is read per alert
RETURNING id, slot_id, priority::text AS priority, channel::text AS channel`;

/** Inserts the alerts that the given (still AVAILABLE) slots owe; returns only those newly written. */
export async function insertAlertsForSlots(db: Queryable, slotIds: string[]): Promise<NewAlert[]> {
  if (!slotIds.length) return [];
  const { rows } = await db.query<{ id: string; slot_id: string; priority: PriorityTier; channel: Channel }>(INSERT_ALERTS_SQL, [slotIds]);
  return rows.map((r) => ({ id: r.id, slotId: r.slot_id, priority: r.priority, channel: r.channel }));
}

/** Records that the alerts were handed to their deliveries queue just now. */
export async function markEnqueued(db: Queryable, ids: string[]): Promise<void> {
  await db.query(`UPDATE user_alerts SET enqueued_at = now() WHERE id = ANY ($1::uuid[])`, [ids]);
}

export interface LiveSubscription {
  id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** A claimed alert with what its message says: its slot, centre, user and watch. */
export interface AlertContext {
  id: string;
  slotId: string;
  /** Attempts so far, this claim included. */
  attempts: number;
  distanceM: number | null;
  startTime: Date;
  testType: TestType;
  centerName: string;
  email: string;
  firstName: string | null;
  unsubscribeToken: string;
}

export interface Claimed {
  context: AlertContext;
  subscriptions: LiveSubscription[];
}

/*
 * The hot statements below are named, so each pooled connection parses and plans them
 * once instead of for every message (the claim joins four tables): at high rates that is
 * most of PostgreSQL's work per alert.
 */

/**
 * Claims alerts for one send each on `channel`: PENDING (or SENDING whose lease ran out,
 * i.e. a sender that crashed) becomes SENDING with a fresh lease and one more attempt,
 * but only while the slot is still free, the user and watch active, quiet hours not in
 * force and, for push, the user has a live subscription. Returns the claimed ones with
 * what their messages need (the rest of their state is known from the claim itself); an
 * id missing from the result was not claimed (the caller re-reads to learn why). One
 * statement, so the check and the claim cannot drift.
 */
export async function claimAlerts(db: Queryable, alertIds: string[], channel: Channel, leaseSeconds: number): Promise<Map<string, Claimed>> {
  const { rows } = await db.query<{
    id: string; slot_id: string; attempts: number; distance_m: number | null; start_time: Date; test_type: TestType;
    center_name: string; email: string; first_name: string | null; unsubscribe_token: string; subscriptions: LiveSubscription[] | null;
  }>({
    name: 'slotwatch_delivery_claim_alerts',
    text: `UPDATE user_alerts a
        SET status = 'SENDING', lease_until = now() + make_interval(secs => $3::int),
            attempts = a.attempts + 1, channel = $2::notification_method
       FROM time_slots s
       JOIN test_centers c ON c.id = s.center_id, users u, user_preferences p
      WHERE a.id = ANY($1::uuid[])
        AND s.id = a.slot_id AND u.id = a.user_id AND p.id = a.preference_id
        AND (a.status = 'PENDING' OR (a.status = 'SENDING' AND a.lease_until <= now()))
        AND s.status = 'AVAILABLE' AND s.start_time > now()
        AND u.is_active AND p.is_active
        AND user_quiet_hours_until(u.quiet_hours_start, u.quiet_hours_end, now()) IS NULL
        AND ($2::notification_method = 'email' OR EXISTS (SELECT FROM push_subscriptions ps WHERE ps.user_id = a.user_id AND ps.is_active))
      RETURNING a.id, a.slot_id, a.attempts, a.distance_m, s.start_time, s.test_type, c.name AS center_name,
        u.email, u.first_name, p.unsubscribe_token,
        CASE WHEN $2::notification_method = 'push' THEN
          (SELECT json_agg(json_build_object('id', ps.id, 'endpoint', ps.endpoint, 'p256dh', ps.p256dh, 'auth', ps.auth) ORDER BY ps.created_at)
             FROM push_subscriptions ps WHERE ps.user_id = a.user_id AND ps.is_active)
        END AS subscriptions`,
    values: [alertIds, channel, leaseSeconds],
  });
  return new Map(
    rows.map((r) => [
      r.id,
      {
        context: {
          id: r.id,
          slotId: r.slot_id,
          attempts: r.attempts,
          distanceM: r.distance_m,
          startTime: r.start_time,
          testType: r.test_type,
          centerName: r.center_name,
          email: r.email,
          firstName: r.first_name,
          unsubscribeToken: r.unsubscribe_token,
        },
        subscriptions: r.subscriptions ?? [],
      },
    ]),
  );
}

export interface SentMark {
  alertId: string;
  channel: Channel;
  providerMessageId: string | null;
  /** Push subscriptions that accepted it: they are recorded as working. */
  acceptedSubscriptionIds: string[];
}

/** Marks claimed alerts SENT; returns the ids that were still SENDING (and so are now SENT). */
export async function markSentMany(db: Queryable, marks: SentMark[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>({
    name: 'slotwatch_delivery_mark_sent',
    text: `WITH ${subscriptionsSucceededCte('ok', '$4')}
     UPDATE user_alerts a
        SET status = 'SENT', sent = true, sent_at = now(), lease_until = NULL,
            channel = m.channel, provider_message_id = m.provider_message_id, last_error = NULL
       FROM unnest($1::uuid[], $2::notification_method[], $3::text[]) AS m(id, channel, provider_message_id)
      WHERE a.id = m.id AND a.status = 'SENDING'
      RETURNING a.id`,
    values: [marks.map((m) => m.alertId), marks.map((m) => m.channel), marks.map((m) => m.providerMessageId), marks.flatMap((m) => m.acceptedSubscriptionIds)],
  });
  return new Set(rows.map((r) => r.id));
}

/** Marks an unfinished alert SKIPPED with the reason; a finished one is left alone. */
export async function markSkipped(db: Queryable, alertId: string, reason: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE user_alerts SET status = 'SKIPPED', lease_until = NULL, last_error = $2::text
      WHERE id = $1::uuid AND status IN ('PENDING', 'SENDING')`,
    [alertId, reason],
  );
  return rowCount === 1;
}

/**
 * Pushes the lease of a claim whose send is still in progress out by `leaseSeconds` from
 * now, so that a slow send is not taken for a dead sender and retaken (sent twice). False
 * when the alert is no longer SENDING.
 */
export async function extendLease(db: Queryable, alertId: string, leaseSeconds: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE user_alerts SET lease_until = now() + make_interval(secs => $2::int)
      WHERE id = $1::uuid AND status = 'SENDING'`,
    [alertId, leaseSeconds],
  );
  return rowCount === 1;
}

/** Gives a claim back (to be retried later): PENDING again, with the error recorded. */
export async function releaseClaim(db: Queryable, alertId: string, error: string | null): Promise<void> {
  await db.query(
    `UPDATE user_alerts SET status = 'PENDING', lease_until = NULL, last_error = coalesce($2::text, last_error)
      WHERE id = $1::uuid AND status = 'SENDING'`,
    [alertId, error],
  );
}

/** Marks an alert FAILED for good, with the error. */
export async function markFailed(db: Queryable, alertId: string, error: string): Promise<void> {
  await db.query(
    `UPDATE user_alerts SET status = 'FAILED', lease_until = NULL, last_error = $2::text
      WHERE id = $1::uuid AND status IN ('PENDING', 'SENDING')`,
    [alertId, error],
  );
}

/**
 * Deletes every alert of the user (an erasure). A job still queued for one finds it gone
 * and ends quietly; a send already in flight may still arrive, as it would after a sign-out.
 */
export async function deleteAlertsOf(tx: Queryable, userId: string): Promise<number> {
  const { rowCount } = await tx.query(`DELETE FROM user_alerts WHERE user_id = $1::uuid`, [userId]);
  return rowCount ?? 0;
}
