/** push_subscriptions: the browsers that asked for web push, per user; every statement that writes it. */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import type { Queryable } from '../db/types.js';
import { scrubReason } from '../log.js';

export interface SubscriptionInput {
  endpoint: string;
  p256dh: string;
  auth: string;
  userAgent?: string | null;
}

/**
 * The most push subscriptions one user keeps: every alert is sent to each, so without a
 * bound one account could make each of its alerts hundreds of requests.
 */
export const MAX_SUBSCRIPTIONS_PER_USER = 10;

/**
 * Saves a browser's subscription for `userId`. The same endpoint subscribing again (new
 * keys after a browser refresh, or another account on the same browser) takes the row
 * over and makes it live again: an endpoint belongs to exactly one browser profile.
 *
 * A user keeps at most MAX_SUBSCRIPTIONS_PER_USER: saving one more removes the surplus,
 * switched-off ones first, then the oldest (a learner's new browser is what they want
 * alerts on; an old one has most likely gone). The user's advisory lock makes concurrent
 * saves take turns, so none of them can count before another has written.
 */
export async function saveSubscription(pool: pg.Pool, userId: string, s: SubscriptionInput): Promise<{ id: string; created: boolean; replaced: number }> {
  return withTransaction(pool, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('slotwatch.push-subscriptions:' || $1::text, 0))`, [userId]);
    const { rows } = await tx.query<{ id: string; created: boolean }>(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent)
       VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text)
       ON CONFLICT ON CONSTRAINT push_subscriptions_endpoint_key DO UPDATE
         SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
             user_agent = EXCLUDED.user_agent, is_active = true, failure_reason = NULL
       RETURNING id, (xmax = 0) AS created`,
      [userId, s.endpoint, s.p256dh, s.auth, s.userAgent ?? null],
    );
    const saved = rows[0]!;
    const { rowCount } = await tx.query(
      `DELETE FROM push_subscriptions
        WHERE user_id = $1::uuid AND id <> $2::uuid
          AND id NOT IN (SELECT id FROM push_subscriptions
                          WHERE user_id = $1::uuid AND id <> $2::uuid
                          ORDER BY is_active DESC, created_at DESC, id DESC
                          LIMIT $3::int)`,
      [userId, saved.id, MAX_SUBSCRIPTIONS_PER_USER - 1],
    );
    return { ...saved, replaced: rowCount ?? 0 };
  });
}

/** Removes one of the user's subscriptions, by id or endpoint; false when it is not theirs. */
export async function deleteSubscription(db: Queryable, userId: string, by: { id?: string; endpoint?: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM push_subscriptions
      WHERE user_id = $1::uuid AND (id = $2::uuid OR endpoint = $3::text)`,
    [userId, by.id ?? null, by.endpoint ?? null],
  );
  return (rowCount ?? 0) > 0;
}

/** Stops sending to exactly this subscription (the push service said it is gone, or it is malformed). */
export async function deactivateSubscription(db: Queryable, id: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE push_subscriptions SET is_active = false, last_failure_at = now(), failure_reason = $2::text
      WHERE id = $1::uuid`,
    [id, scrubReason(reason).slice(0, 500)],
  );
}

/** Records a passing failure on a subscription that stays live. */
export async function noteSubscriptionFailure(db: Queryable, id: string, reason: string): Promise<void> {
  await db.query(`UPDATE push_subscriptions SET last_failure_at = now(), failure_reason = $2::text WHERE id = $1::uuid`, [
    id,
    scrubReason(reason).slice(0, 500),
  ]);
}

/**
 * A CTE named `name` that records the subscriptions in the uuid[] parameter `param` (e.g.
 * `$4`) as having just accepted a message, for a statement that records the sends it
 * belongs to in the same round trip.
 */
export function subscriptionsSucceededCte(name: string, param: string): string {
  return `${name} AS (UPDATE push_subscriptions SET last_success_at = now() WHERE id = ANY(${param}::uuid[]))`;
}

/** A push subscription as its owner's data export shows it: the endpoint and keys are theirs. */
export interface SubscriptionRecord {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  userAgent: string | null;
  isActive: boolean;
  createdAt: string;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  failureReason: string | null;
}

/** The user's push subscriptions, oldest first. */
export async function listSubscriptions(db: Queryable, userId: string): Promise<SubscriptionRecord[]> {
  const { rows } = await db.query<{
    id: string; endpoint: string; p256dh: string; auth: string; user_agent: string | null; is_active: boolean;
    created_at: Date; last_success_at: Date | null; last_failure_at: Date | null; failure_reason: string | null;
  }>(
    `SELECT id, endpoint, p256dh, auth, user_agent, is_active, created_at, last_success_at, last_failure_at, failure_reason
       FROM push_subscriptions WHERE user_id = $1::uuid ORDER BY created_at, id`,
    [userId],
  );
  return rows.map((r) => ({
    id: r.id,
    endpoint: r.endpoint,
    keys: { p256dh: r.p256dh, auth: r.auth },
    userAgent: r.user_agent,
    isActive: r.is_active,
    createdAt: r.created_at.toISOString(),
    lastSuccessAt: r.last_success_at?.toISOString() ?? null,
    lastFailureAt: r.last_failure_at?.toISOString() ?? null,
    failureReason: r.failure_reason,
  }));
}

/** Deletes every push subscription of the user (an erasure). */
export async function deleteSubscriptionsOf(tx: Queryable, userId: string): Promise<number> {
  const { rowCount } = await tx.query(`DELETE FROM push_subscriptions WHERE user_id = $1::uuid`, [userId]);
  return rowCount ?? 0;
}
