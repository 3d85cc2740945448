/**
 * user_alerts: every statement that writes it. Matching inserts alerts for released
 * slots; the hand-off records when each went to its deliveries queue; a sender claims an
 * alert under a lease (with everything its message needs), renews the lease while it
 * sends, and records how it ended (SENT, SKIPPED, FAILED, or PENDING again to retry).
 * Reads that explain an alert's state are in state.ts.
 */
import type { Queryable } from '../db/types.js';
import { scrubReason } from '../log.js';
import type { TestType } from '../slots/test-types.js';
import { REALERT_AFTER_MINUTES_DEFAULT, settingSql } from '../settings/definitions.js';
import { subscriptionsSucceededCte } from '../watches/push-subscriptions.js';
import type { NotificationMethod } from '../watches/watches.js';
import { deleteUserMessages, finishMessage, singleMessagesSentCte, TRY_RECIPIENT_LOCK_SQL } from './messages.js';

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
  userId: string;
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
         (s.start_time AT TIME ZONE 'Europe/London')::date AS slot_date,
         -- the release the alerts answer: the slot's latest (a batch may hold several of
         -- one slot, when it flapped; a later one still unprocessed finds these alerts)
         (SELECT max(r.id) FROM slot_releases r WHERE r.slot_id = s.id) AS release_id
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
  SELECT r.slot_id, r.release_id, w.user_id, w.distance_m, w.preference_id, w.notification_method, w.user_priority
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
INSERT INTO user_alerts (user_id, slot_id, release_id, preference_id, distance_m, channel, priority)
-- the unique key's order: one order for every writer keeps concurrent batches from
-- deadlocking on it, and a slot's alerts land side by side in it
SELECT user_id, slot_id, release_id, preference_id, distance_m, notification_method, user_priority
  FROM matched m
 -- once per release, and not again while an alert for the slot is younger than
 -- realert_after_minutes: a hold that expires and is taken again and again spams no one.
 -- A probe of the unique key's (slot_id, user_id) prefix, empty on a slot's first release.
 WHERE NOT EXISTS (
   SELECT FROM user_alerts x
    WHERE x.slot_id = m.slot_id AND x.user_id = m.user_id
      AND (x.release_id IS NOT DISTINCT FROM m.release_id
           OR x.created_at > now() - make_interval(mins => ${settingSql('realert_after_minutes', String(REALERT_AFTER_MINUTES_DEFAULT))}::int)))
 ORDER BY slot_id, user_id
-- the key is unique per partition (user_alerts is partitioned by id, and a unique constraint
-- of the whole table would have to hold the id): no target, so the partition's own unique
-- index is the arbiter; SLOT_LOCKS_SQL keeps one key out of two partitions
ON CONFLICT DO NOTHING
-- the tier comes with the watch, so no users row is read per alert
RETURNING id, slot_id, user_id, priority::text AS priority, channel::text AS channel`;

/**
 * The matcher's lock on each slot it writes alerts for, until its transaction ends, taken
 * in one order so that two batches cannot deadlock on them. The dedupe key is unique only
 * within a partition of user_alerts: two batches writing one slot's alerts either side of a
 * week's boundary would land in two partitions and both succeed. With the lock the second
 * batch's INSERT starts after the first committed, and its NOT EXISTS sees those alerts.
 * Transaction-scoped, so it also holds behind a transaction-pooling PgBouncer.
 */
export const SLOT_LOCKS_SQL = `SELECT pg_advisory_xact_lock(k)
  FROM (SELECT DISTINCT hashtextextended('slotwatch.alert-slot:' || s::text, 0) AS k FROM unnest($1::uuid[]) s ORDER BY 1) keys`;

/** Inserts the alerts that the given (still AVAILABLE) slots owe; returns only those newly written. Call it in a transaction. */
export async function insertAlertsForSlots(db: Queryable, slotIds: string[]): Promise<NewAlert[]> {
  if (!slotIds.length) return [];
  await db.query(SLOT_LOCKS_SQL, [slotIds]);
  const { rows } = await db.query<{ id: string; slot_id: string; user_id: string; priority: PriorityTier; channel: Channel }>(INSERT_ALERTS_SQL, [slotIds]);
  return rows.map((r) => ({ id: r.id, slotId: r.slot_id, userId: r.user_id, priority: r.priority, channel: r.channel }));
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
  userId: string;
  slotId: string;
  /** The message it went (or goes) in, once routed: set again on a retry. */
  messageId: string | null;
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
export async function claimAlerts(
  db: Queryable,
  alertIds: string[],
  channel: Channel,
  leaseSeconds: number,
  pushConfigured = true,
): Promise<Map<string, Claimed>> {
  const { rows } = await db.query<{
    id: string; user_id: string; message_id: string | null; slot_id: string; attempts: number; distance_m: number | null; start_time: Date; test_type: TestType;
    center_name: string; email: string; first_name: string | null; unsubscribe_token: string; subscriptions: LiveSubscription[] | null;
  }>({
    name: 'slotwatch_delivery_claim_alerts',
    // the asked-for alerts first, by their key: a burst turns a thousand slots AVAILABLE at
    // once, and until the statistics catch up the planner takes "free future slots" for a
    // handful and would start from them, testing every unfinished alert per slot (seconds
    // per claim)
    text: `WITH asked AS MATERIALIZED (SELECT id, slot_id, user_id, preference_id FROM user_alerts WHERE id = ANY($1::uuid[]))
     UPDATE user_alerts a
        SET status = 'SENDING', lease_until = now() + make_interval(secs => $3::int),
            attempts = a.attempts + 1, channel = $2::notification_method
       FROM asked t
       JOIN time_slots s ON s.id = t.slot_id
       JOIN test_centers c ON c.id = s.center_id
       JOIN users u ON u.id = t.user_id
       JOIN user_preferences p ON p.id = t.preference_id
      WHERE a.id = t.id
        AND (a.status = 'PENDING' OR (a.status = 'SENDING' AND a.lease_until <= now()))
        AND s.status = 'AVAILABLE' AND s.start_time > now()
        AND u.is_active AND p.is_active
        AND user_quiet_hours_until(u.quiet_hours_start, u.quiet_hours_end, now()) IS NULL
        -- the channel is the watch's method as it is now, not as it was when the alert was
        -- queued; push needs a live subscription, else (or without VAPID keys) it is email
        AND CASE WHEN $2::notification_method = 'push'
                 THEN p.notification_method = 'push' AND EXISTS (SELECT FROM push_subscriptions ps WHERE ps.user_id = a.user_id AND ps.is_active)
                 ELSE p.notification_method = 'email' OR NOT $4::boolean
                      OR NOT EXISTS (SELECT FROM push_subscriptions ps WHERE ps.user_id = a.user_id AND ps.is_active) END
      RETURNING a.id, a.user_id, a.message_id, a.slot_id, a.attempts, a.distance_m, s.start_time, s.test_type, c.name AS center_name,
        u.email, u.first_name, p.unsubscribe_token,
        CASE WHEN $2::notification_method = 'push' THEN
          (SELECT json_agg(json_build_object('id', ps.id, 'endpoint', ps.endpoint, 'p256dh', ps.p256dh, 'auth', ps.auth) ORDER BY ps.created_at)
             FROM push_subscriptions ps WHERE ps.user_id = a.user_id AND ps.is_active)
        END AS subscriptions`,
    values: [alertIds, channel, leaseSeconds, pushConfigured],
  });
  return new Map(
    rows.map((r) => [
      r.id,
      {
        context: {
          id: r.id,
          userId: r.user_id,
          slotId: r.slot_id,
          messageId: r.message_id,
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
  /** The single message that carried it: marked SENT with it. */
  messageId: string | null;
  channel: Channel;
  providerMessageId: string | null;
  /** Push subscriptions that accepted it: they are recorded as working. */
  acceptedSubscriptionIds: string[];
}

/** Marks claimed alerts SENT; returns the ids that were still SENDING (and so are now SENT). */
export async function markSentMany(db: Queryable, marks: SentMark[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>({
    name: 'slotwatch_delivery_mark_sent',
    text: `WITH ${subscriptionsSucceededCte('ok', '$4')}, ${singleMessagesSentCte('messages_sent', '$5', '$6', '$7')}
     UPDATE user_alerts a
        SET status = 'SENT', sent = true, sent_at = now(), lease_until = NULL,
            channel = m.channel, provider_message_id = m.provider_message_id, last_error = NULL
       FROM unnest($1::uuid[], $2::notification_method[], $3::text[]) AS m(id, channel, provider_message_id)
      WHERE a.id = m.id AND a.status = 'SENDING'
      RETURNING a.id`,
    values: [
      marks.map((m) => m.alertId),
      marks.map((m) => m.channel),
      marks.map((m) => m.providerMessageId),
      marks.flatMap((m) => m.acceptedSubscriptionIds),
      ...(() => {
        const carried = marks.filter((m) => m.messageId);
        return [carried.map((m) => m.messageId), carried.map((m) => m.channel), carried.map((m) => m.providerMessageId)];
      })(),
    ],
  });
  return new Set(rows.map((r) => r.id));
}

/** Marks an unfinished alert SKIPPED with the reason; a finished one is left alone. */
export async function markSkipped(db: Queryable, alertId: string, reason: string): Promise<boolean> {
  const { rows } = await db.query<{ message_id: string | null }>(
    `UPDATE user_alerts SET status = 'SKIPPED', lease_until = NULL, last_error = $2::text
      WHERE id = $1::uuid AND status IN ('PENDING', 'SENDING')
      RETURNING message_id`,
    [alertId, reason],
  );
  // a single message opened for it on an earlier try goes with it
  if (rows[0]?.message_id) await finishMessage(db, rows[0].message_id, 'SKIPPED', reason);
  return rows.length === 1;
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

/** Gives a claim back (to be retried later): PENDING again, with the error recorded (scrubbed: see scrubReason). */
export async function releaseClaim(db: Queryable, alertId: string, error: string | null): Promise<void> {
  error = error === null ? null : scrubReason(error);
  await db.query(
    `UPDATE user_alerts SET status = 'PENDING', lease_until = NULL, last_error = coalesce($2::text, last_error)
      WHERE id = $1::uuid AND status = 'SENDING'`,
    [alertId, error],
  );
}

/** Marks an alert FAILED for good, with the error (scrubbed: see scrubReason). */
export async function markFailed(db: Queryable, alertId: string, error: string): Promise<void> {
  error = scrubReason(error);
  const { rows } = await db.query<{ message_id: string | null }>(
    `UPDATE user_alerts SET status = 'FAILED', lease_until = NULL, last_error = $2::text
      WHERE id = $1::uuid AND status IN ('PENDING', 'SENDING')
      RETURNING message_id`,
    [alertId, error],
  );
  if (rows[0]?.message_id) await finishMessage(db, rows[0].message_id, 'FAILED', error);
}

/**
 * Routing's outcome for a claimed alert: carried by a single message (it stays SENDING,
 * now with its message), gathered into a digest (DIGESTED), or over the learner's daily
 * cap (CAPPED, recorded but never sent).
 */
export async function routeClaimedAlert(tx: Queryable, alertId: string, to: { status: 'SENDING' | 'DIGESTED' | 'CAPPED'; messageId: string | null }): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE user_alerts
        SET status = $2::alert_status, message_id = $3::uuid,
            lease_until = CASE WHEN $2::alert_status = 'SENDING' THEN lease_until END,
            last_error = CASE WHEN $2::alert_status = 'CAPPED' THEN 'daily cap reached' ELSE last_error END
      WHERE id = $1::uuid AND status = 'SENDING'`,
    [alertId, to.status, to.messageId],
  );
  return rowCount === 1;
}

/** An alert's routing as it stands: whether it is still its sender's to route, or already in a message. */
export interface RoutingState {
  status: string;
  messageId: string | null;
}

/**
 * Tries the learner's routing lock (lockRecipient's, without waiting) and reads where the
 * claimed alert stands, in one round trip: another sender may have gathered it meanwhile.
 */
export async function tryRoutingLock(tx: Queryable, userId: string, alertId: string): Promise<{ locked: boolean; alert: RoutingState | null }> {
  const { rows } = await tx.query<{ locked: boolean; status: string | null; message_id: string | null }>({
    name: 'slotwatch_delivery_try_route_lock',
    text: `SELECT ${TRY_RECIPIENT_LOCK_SQL} AS locked, a.status::text AS status, a.message_id
             FROM (SELECT 1) one LEFT JOIN user_alerts a ON a.id = $2::uuid`,
    values: [userId, alertId],
  });
  const r = rows[0]!;
  return { locked: r.locked, alert: r.status === null ? null : { status: r.status, messageId: r.message_id } };
}

/**
 * Routes the learner's other alerts that no message carries yet (PENDING, or SENDING and
 * claimed by a sender that has not routed it yet) along with the one being routed: into
 * its digest (DIGESTED) or over the cap (CAPPED). Their own jobs then find them routed and
 * end at once. Rows another statement holds (a claim being written) are skipped, not
 * waited for: their senders route them themselves, under the same lock, after this commits.
 * Returns how many were gathered.
 */
export async function gatherUnrouted(tx: Queryable, userId: string, exceptAlertId: string, to: { status: 'DIGESTED' | 'CAPPED'; messageId: string | null }): Promise<number> {
  const { rowCount } = await tx.query({
    name: 'slotwatch_delivery_gather_unrouted',
    text: `WITH g AS (
             SELECT id FROM user_alerts
              WHERE user_id = $1::uuid AND id <> $2::uuid AND message_id IS NULL AND status IN ('PENDING', 'SENDING')
              ORDER BY id
                FOR UPDATE SKIP LOCKED)
           UPDATE user_alerts a
              SET status = $3::alert_status, message_id = $4::uuid, lease_until = NULL,
                  last_error = CASE WHEN $3::alert_status = 'CAPPED' THEN 'daily cap reached' ELSE a.last_error END
             FROM g WHERE a.id = g.id`,
    values: [userId, exceptAlertId, to.status, to.messageId],
  });
  return rowCount ?? 0;
}

/** One slot of a digest, with what its line says. */
export interface DigestItem {
  alertId: string;
  slotId: string;
  distanceM: number | null;
  startTime: Date;
  testType: TestType;
  centerName: string;
  /** The watch's method and unsubscribe token as they are now. */
  method: Channel;
  unsubscribeToken: string;
}

/**
 * The alerts a digest still carries, soonest slot first. Those no longer worth telling
 * (the slot taken, started or deleted, the watch off or deleted) are first marked SKIPPED
 * and let go of the message, so a slot taken before the digest leaves is not in it.
 */
export async function digestItems(db: Queryable, messageId: string): Promise<DigestItem[]> {
  await db.query(
    `WITH gone AS (
       SELECT a.id,
              CASE WHEN s.id IS NULL THEN 'slot was deleted'
                   WHEN s.status <> 'AVAILABLE' THEN 'slot is ' || s.status::text
                   WHEN s.start_time <= now() THEN 'slot has started'
                   WHEN p.id IS NULL THEN 'watch was deleted'
                   WHEN NOT p.is_active THEN 'watch is inactive' END AS reason
         FROM user_alerts a
         LEFT JOIN time_slots s ON s.id = a.slot_id
         LEFT JOIN user_preferences p ON p.id = a.preference_id
        WHERE a.message_id = $1::uuid AND a.status = 'DIGESTED')
     UPDATE user_alerts a SET status = 'SKIPPED', message_id = NULL, last_error = g.reason
       FROM gone g WHERE a.id = g.id AND g.reason IS NOT NULL`,
    [messageId],
  );
  const { rows } = await db.query<{
    id: string; slot_id: string; distance_m: number | null; start_time: Date; test_type: TestType; center_name: string; method: Channel; unsubscribe_token: string;
  }>(
    `SELECT a.id, a.slot_id, a.distance_m, s.start_time, s.test_type, c.name AS center_name, p.notification_method AS method, p.unsubscribe_token
       FROM user_alerts a
       JOIN time_slots s ON s.id = a.slot_id
       JOIN test_centers c ON c.id = s.center_id
       JOIN user_preferences p ON p.id = a.preference_id
      WHERE a.message_id = $1::uuid AND a.status = 'DIGESTED'
      ORDER BY s.start_time, a.id`,
    [messageId],
  );
  return rows.map((r) => ({
    alertId: r.id,
    slotId: r.slot_id,
    distanceM: r.distance_m,
    startTime: r.start_time,
    testType: r.test_type,
    centerName: r.center_name,
    method: r.method,
    unsubscribeToken: r.unsubscribe_token,
  }));
}

/**
 * Deletes every alert of the user and every message that carried them (an erasure). A job
 * still queued for one finds it gone and ends quietly; a send already in flight may still
 * arrive, as it would after a sign-out. Returns how many of each went.
 */
export async function deleteAlertsOf(tx: Queryable, userId: string): Promise<{ alerts: number; messages: number }> {
  // the alerts first: each points at its message
  const { rowCount } = await tx.query(`DELETE FROM user_alerts WHERE user_id = $1::uuid`, [userId]);
  return { alerts: rowCount ?? 0, messages: await deleteUserMessages(tx, userId) };
}

/**
 * Deletes up to `limit` alerts of the default partition created before `cutoff` (ids no
 * weekly partition covers: written before ids were time-ordered, or given explicitly),
 * through the table so that the counting triggers see them go. Old weeks go whole, by
 * dropping their partitions (src/jobs/retention.ts).
 */
export async function deleteUnpartitionedAlertsBefore(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM user_alerts WHERE id = ANY (ARRAY(SELECT id FROM user_alerts_default WHERE created_at < $1::timestamptz LIMIT $2::int))`,
    [cutoff, limit],
  );
  return rowCount ?? 0;
}
