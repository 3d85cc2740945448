/**
 * Reading where alerts stand: why one could not be claimed, which PENDING alerts lost their
 * way to a deliveries queue, and which claims a dead sender left behind.
 */
import type { Queryable } from '../db/types.js';
import { markSkipped, type Channel, type LiveSubscription, type PriorityTier } from './store.js';

/** Every status an alert can be in (the alert_status enum as user_alerts uses it). */
export const ALERT_STATUSES = ['PENDING', 'SENDING', 'SENT', 'SKIPPED', 'FAILED', 'DIGESTED', 'CAPPED'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/**
 * Why an alert could not be claimed: finished, no longer wanted, quiet, leased by someone
 * else, or (push) without a live subscription. Read only when a claim fails.
 */
export interface AlertState {
  id: string;
  status: AlertStatus;
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
  const { rows } = await db.query<{
    id: string; status: AlertState['status']; lease_live_until: Date | null; slot_status: AlertState['slotStatus']; slot_in_future: boolean;
    user_active: boolean; watch_active: boolean | null; method: Channel | null; quiet_until: Date | null; live_subscriptions: number;
  }>({
    // named: parsed and planned once per connection, as the claim is
    name: 'slotwatch_delivery_read_alert_states',
    text: `SELECT a.id, a.status,
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
    values: [alertIds],
  });
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

/**
 * What became of an alert that no longer needs sending: gone, already finished, or (marked
 * SKIPPED here) no longer wanted. Null when it still wants sending.
 */
export async function settledOutcome(
  db: Queryable,
  alertId: string,
  state: AlertState | null,
): Promise<{ outcome: string; reason?: string } | null> {
  if (!state) return { outcome: 'gone' };
  if (state.status !== 'PENDING' && state.status !== 'SENDING') return { outcome: `already ${state.status}` };
  const reason = skipReason(state);
  if (!reason) return null;
  await markSkipped(db, alertId, reason);
  return { outcome: 'SKIPPED', reason };
}

/** An alert as the hand-off needs it: which queue, at what priority. */
export interface AlertToDeliver {
  id: string;
  /** Whose: picks the alert's queue among its channel's shards. */
  userId: string;
  priority: PriorityTier;
  /** The alert's channel as matching wrote it (its watch's method). */
  channel: Channel | null;
}

export interface StrandedQuery {
  /** Seconds an alert may wait for its first enqueue before the sweep takes it. */
  graceSeconds: number;
  /** Seconds after its last enqueue at which a still-PENDING alert is handed over again. */
  requeueSeconds: number;
  /** Most alerts per run. */
  limit: number;
}

/**
 * PENDING alerts that lost their way to a deliveries queue, oldest first: never enqueued
 * (a crash between the commit that wrote them and the enqueue) and older than the grace
 * period, or enqueued long ago and still PENDING (the job was lost with Redis, or
 * completed and was removed without the alert moving on).
 */
export async function findStrandedAlerts(db: Queryable, o: StrandedQuery): Promise<AlertToDeliver[]> {
  const { rows } = await db.query<AlertToDeliver>(
    // the tier and channel the alert was written with, as the first hand-off used them
    `SELECT a.id, a.user_id AS "userId", a.priority::text AS priority, a.channel::text AS channel
       FROM user_alerts a
      WHERE a.status = 'PENDING'
        AND ((a.enqueued_at IS NULL AND a.created_at < now() - make_interval(secs => $1::double precision))
          OR a.enqueued_at < now() - make_interval(secs => $2::double precision))
      ORDER BY a.created_at
      LIMIT $3::int`,
    [o.graceSeconds, o.requeueSeconds, o.limit],
  );
  return rows;
}

/** Alerts whose SENDING lease ran out (a sender died mid-send), oldest first. */
export async function expiredClaims(db: Queryable, limit: number): Promise<{ id: string; userId: string; channel: Channel | null }[]> {
  const { rows } = await db.query<{ id: string; userId: string; channel: Channel | null }>(
    `SELECT id, user_id AS "userId", channel FROM user_alerts
      WHERE status = 'SENDING' AND lease_until <= now()
      ORDER BY lease_until LIMIT $1::int`,
    [limit],
  );
  return rows;
}

/** The user's live push subscriptions, oldest first (a digest's push goes to each). */
export async function liveSubscriptions(db: Queryable, userId: string): Promise<LiveSubscription[]> {
  const { rows } = await db.query<LiveSubscription>(
    `SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = $1::uuid AND is_active ORDER BY created_at`,
    [userId],
  );
  return rows;
}

/** An alert as its learner's data export shows it. */
export interface AlertRecord {
  id: string;
  slotId: string;
  /** The watch that matched; null once that watch was deleted. */
  watchId: string | null;
  distanceMiles: number | null;
  status: AlertState['status'];
  channel: Channel | null;
  /** The email or push that carried it (or will): see messagesOfUser. */
  messageId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** Every alert of the user, newest first. */
export async function alertsOfUser(db: Queryable, userId: string): Promise<AlertRecord[]> {
  const { rows } = await db.query<{
    id: string; slot_id: string; preference_id: string | null; distance_m: number | null; status: AlertState['status'];
    channel: Channel | null; message_id: string | null; attempts: number; last_error: string | null; created_at: Date; sent_at: Date | null;
  }>(
    `SELECT id, slot_id, preference_id, distance_m, status::text AS status, channel::text AS channel, message_id, attempts, last_error, created_at, sent_at
       FROM user_alerts WHERE user_id = $1::uuid ORDER BY created_at DESC, id`,
    [userId],
  );
  return rows.map((r) => ({
    id: r.id,
    slotId: r.slot_id,
    watchId: r.preference_id,
    distanceMiles: r.distance_m === null ? null : Math.round((r.distance_m / 1609.344) * 100) / 100,
    status: r.status,
    channel: r.channel,
    messageId: r.message_id,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
  }));
}
