/**
 * The delivery side of user_alerts: claiming an alert for one sender under a lease (with
 * everything its message needs), reading why one could not be claimed, and recording how
 * it ended.
 */
import type { QueryResult, QueryResultRow } from 'pg';
import type { Queryable } from '../db/types.js';

/**
 * Runs one of the hot queries below as a named prepared statement: each pooled connection
 * parses and plans it once instead of on every message (the claim joins four tables), which
 * is most of PostgreSQL's work per alert at high rates. Every Queryable here is a pg pool or
 * client, whose query() takes the config form too.
 */
function prepared<R extends QueryResultRow>(db: Queryable, name: string, text: string, values: unknown[]): Promise<QueryResult<R>> {
  return (db as unknown as { query(config: { name: string; text: string; values: unknown[] }): Promise<QueryResult<R>> }).query({ name, text, values });
}

export type Channel = 'email' | 'push';

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
  testType: 'practical' | 'theory';
  centerName: string;
  email: string;
  firstName: string | null;
  unsubscribeToken: string;
}

/**
 * Why an alert could not be claimed: finished, no longer wanted, quiet, leased by someone
 * else, or (push) without a live subscription. Read only when a claim fails.
 */
export interface AlertState {
  id: string;
  status: 'PENDING' | 'SENDING' | 'SENT' | 'SKIPPED' | 'FAILED';
  /** The claim's lease, when the alert is SENDING and the lease has not run out. */
  leaseLiveUntil: Date | null;
  slotStatus: 'AVAILABLE' | 'HOLD' | 'BOOKED';
  slotInFuture: boolean;
  userActive: boolean;
  /** Null when the watch was deleted (preference_id ON DELETE SET NULL). */
  watchActive: boolean | null;
  method: Channel | null;
  /** When the user's quiet hours end, if they are in them now. */
  quietUntil: Date | null;
  /** The user's live push subscriptions, counted only for a push watch (else 0). */
  liveSubscriptions: number;
}

/** Alerts' states by id (see AlertState); ids no longer there are absent. */
export async function readAlertStates(db: Queryable, alertIds: string[]): Promise<Map<string, AlertState>> {
  const { rows } = await prepared<{
    id: string; status: AlertState['status']; lease_live_until: Date | null; slot_status: AlertState['slotStatus']; slot_in_future: boolean;
    user_active: boolean; watch_active: boolean | null; method: Channel | null; quiet_until: Date | null; live_subscriptions: number;
  }>(
    db,
    'slotwatch_delivery_read_alert_states',
    `SELECT a.id, a.status,
            CASE WHEN a.status = 'SENDING' AND a.lease_until > now() THEN a.lease_until END AS lease_live_until,
            s.status AS slot_status, s.start_time > now() AS slot_in_future,
            u.is_active AS user_active, p.is_active AS watch_active, p.notification_method AS method,
            user_quiet_hours_until(u.quiet_hours_start, u.quiet_hours_end, now()) AS quiet_until,
            -- only a push watch needs its subscriptions counted
            CASE WHEN p.notification_method = 'push' THEN
              (SELECT count(*)::int FROM push_subscriptions ps WHERE ps.user_id = a.user_id AND ps.is_active)
            ELSE 0 END AS live_subscriptions
       FROM user_alerts a
       JOIN time_slots s ON s.id = a.slot_id
       JOIN users u ON u.id = a.user_id
       LEFT JOIN user_preferences p ON p.id = a.preference_id
      WHERE a.id = ANY($1::uuid[])`,
    [alertIds],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        status: r.status,
        leaseLiveUntil: r.lease_live_until,
        slotStatus: r.slot_status,
        slotInFuture: r.slot_in_future,
        userActive: r.user_active,
        watchActive: r.watch_active,
        method: r.method,
        quietUntil: r.quiet_until,
        liveSubscriptions: r.live_subscriptions,
      },
    ]),
  );
}

/** Why an alert must not be sent any more, or null when it still should be. */
export function skipReason(c: AlertState): string | null {
  if (c.slotStatus !== 'AVAILABLE') return `slot is ${c.slotStatus}`;
  if (!c.slotInFuture) return 'slot has started';
  if (!c.userActive) return 'user is inactive';
  if (c.watchActive === null) return 'watch was deleted';
  if (!c.watchActive) return 'watch is inactive';
  return null;
}

export interface Claimed {
  context: AlertContext;
  subscriptions: LiveSubscription[];
}

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
  const { rows } = await prepared<{
    id: string; slot_id: string; attempts: number; distance_m: number | null; start_time: Date; test_type: AlertContext['testType'];
    center_name: string; email: string; first_name: string | null; unsubscribe_token: string; subscriptions: LiveSubscription[] | null;
  }>(
    db,
    'slotwatch_delivery_claim_alerts',
    `UPDATE user_alerts a
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
    [alertIds, channel, leaseSeconds],
  );
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
  /** Push subscriptions that accepted it: they get last_success_at. */
  acceptedSubscriptionIds: string[];
}

/** Marks claimed alerts SENT; returns the ids that were still SENDING (and so are now SENT). */
export async function markSentMany(db: Queryable, marks: SentMark[]): Promise<Set<string>> {
  const { rows } = await prepared<{ id: string }>(
    db,
    'slotwatch_delivery_mark_sent',
    `WITH ok AS (
       UPDATE push_subscriptions SET last_success_at = now() WHERE id = ANY($4::uuid[])
     )
     UPDATE user_alerts a
        SET status = 'SENT', sent = true, sent_at = now(), lease_until = NULL,
            channel = m.channel, provider_message_id = m.provider_message_id, last_error = NULL
       FROM unnest($1::uuid[], $2::notification_method[], $3::text[]) AS m(id, channel, provider_message_id)
      WHERE a.id = m.id AND a.status = 'SENDING'
      RETURNING a.id`,
    [marks.map((m) => m.alertId), marks.map((m) => m.channel), marks.map((m) => m.providerMessageId), marks.flatMap((m) => m.acceptedSubscriptionIds)],
  );
  return new Set(rows.map((r) => r.id));
}

/** Marks one claimed alert SENT (see markSentMany). */
export async function markSent(
  db: Queryable,
  alertId: string,
  channel: Channel,
  providerMessageId: string | null,
  acceptedSubscriptionIds: string[] = [],
): Promise<boolean> {
  return (await markSentMany(db, [{ alertId, channel, providerMessageId, acceptedSubscriptionIds }])).has(alertId);
}

/** Marks an unfinished alert SKIPPED with the reason; a finished one is left alone. */
/**
 * What became of an alert that no longer needs sending: gone, already finished, or (marked
 * SKIPPED here) no longer wanted. Null when it still wants sending.
 */
export async function settledOutcome(
  db: Queryable,
  alertId: string,
  ctx: AlertState | null,
): Promise<{ outcome: string; reason?: string } | null> {
  if (!ctx) return { outcome: 'gone' };
  if (ctx.status === 'SENT' || ctx.status === 'SKIPPED' || ctx.status === 'FAILED') return { outcome: `already ${ctx.status}` };
  const reason = skipReason(ctx);
  if (!reason) return null;
  await markSkipped(db, alertId, reason);
  return { outcome: 'SKIPPED', reason };
}

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

/** Alerts whose SENDING lease ran out (a sender died mid-send), oldest first. */
export async function expiredClaims(db: Queryable, limit: number): Promise<{ id: string; channel: Channel | null }[]> {
  const { rows } = await db.query<{ id: string; channel: Channel | null }>(
    `SELECT id, channel FROM user_alerts
      WHERE status = 'SENDING' AND lease_until <= now()
      ORDER BY lease_until LIMIT $1::int`,
    [limit],
  );
  return rows;
}
