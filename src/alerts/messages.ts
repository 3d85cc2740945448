/**
 * alert_messages: every statement that writes it. A message is one email or push that
 * carries one alert (kind 'single', sent at once, driven by its alert's send job) or
 * several (kind 'digest', sent once after alert_digest_seconds with a claim and lease of
 * its own). The daily cap counts messages. Deciding which message an alert goes in is
 * route.ts; the alerts' own rows are store.ts.
 */
import type { Queryable } from '../db/types.js';
import { scrubReason } from '../log.js';
import { ALERT_DAILY_CAP_DEFAULT, ALERT_DIGEST_SECONDS_DEFAULT, settingSql } from '../settings/definitions.js';
import type { NotificationMethod as Channel } from '../watches/watches.js';

export type MessageKind = 'single' | 'digest';
export type MessageStatus = 'PENDING' | 'SENDING' | 'SENT' | 'SKIPPED' | 'FAILED';

const DIGEST_SECONDS = `${settingSql('alert_digest_seconds', String(ALERT_DIGEST_SECONDS_DEFAULT))}::int`;
const DAILY_CAP = `${settingSql('alert_daily_cap', String(ALERT_DAILY_CAP_DEFAULT))}::int`;
/** Today in Europe/London, the day the cap counts by. */
const LONDON_TODAY = `(now() AT TIME ZONE 'Europe/London')::date`;

/**
 * The learner's routing lock, for one transaction, tried without waiting ($1 is the user
 * id): the decision "at once, into the digest, or capped" reads the learner's messages and
 * then writes one, and two senders must not both decide "at once". Never waited for, so a
 * learner's other senders do not hold database connections while one routes.
 */
export const TRY_RECIPIENT_LOCK_SQL = `pg_try_advisory_xact_lock(hashtextextended('slotwatch.alert-recipient:' || $1::text, 0))`;

/** What routing needs to know about a learner's messages, read under the routing lock. */
export interface RecipientState {
  /** Their open digest (PENDING), which gathers further alerts. */
  openDigestId: string | null;
  /** A message to them is being sent, or their last one went less than alert_digest_seconds ago. */
  recent: boolean;
  /** When a digest opened now should go: alert_digest_seconds after their last message. */
  digestAt: Date;
  /** Digests are off (alert_digest_seconds = 0). */
  digestsOff: boolean;
  /** Messages counted against today's cap (Europe/London): sent, or on their way. */
  today: number;
  /** Their cap: the admin's alert_daily_cap, or their own when lower. */
  cap: number;
  /** When a digest opened beside a single message sent now should go: alert_digest_seconds from now. */
  nextDigestAt: Date;
  /** The alert being routed, as it stands now (another sender may have routed it); null when gone. */
  alert: { status: string; messageId: string | null } | null;
  /** The learner's other alerts that no message carries yet (PENDING, or claimed and not routed). */
  unroutedOthers: number;
}

export async function recipientState(tx: Queryable, userId: string, alertId: string): Promise<RecipientState> {
  const { rows } = await tx.query<{
    open_digest_id: string | null; recent: boolean; digest_at: Date; next_digest_at: Date; digests_off: boolean; today: number; cap: number;
    alert_status: string | null; alert_message_id: string | null; unrouted_others: number;
  }>({
    name: 'slotwatch_delivery_recipient_state',
    text: `WITH s AS (SELECT ${DIGEST_SECONDS} AS digest_seconds, ${DAILY_CAP} AS cap),
          m AS (
            SELECT count(*) FILTER (WHERE status = 'SENDING') AS in_flight,
                   max(sent_at) AS last_sent_at,
                   count(*) FILTER (WHERE status IN ('PENDING', 'SENDING', 'SENT')
                                      AND (created_at AT TIME ZONE 'Europe/London')::date = ${LONDON_TODAY}) AS today
              FROM alert_messages
             -- two days back covers today in London and the digest window
             WHERE user_id = $1::uuid AND created_at > now() - interval '2 days')
     SELECT (SELECT id FROM alert_messages WHERE user_id = $1::uuid AND kind = 'digest' AND status = 'PENDING') AS open_digest_id,
            m.in_flight > 0 OR m.last_sent_at > now() - make_interval(secs => s.digest_seconds) AS recent,
            CASE WHEN m.in_flight > 0 OR m.last_sent_at IS NULL THEN now() + make_interval(secs => s.digest_seconds)
                 ELSE greatest(now(), m.last_sent_at + make_interval(secs => s.digest_seconds)) END AS digest_at,
            now() + make_interval(secs => s.digest_seconds) AS next_digest_at,
            s.digest_seconds = 0 AS digests_off,
            m.today::int AS today,
            least(s.cap, coalesce((SELECT alert_daily_cap FROM users WHERE id = $1::uuid), s.cap)) AS cap,
            a.status::text AS alert_status, a.message_id AS alert_message_id,
            (SELECT count(*)::int FROM user_alerts o
              WHERE o.user_id = $1::uuid AND o.id <> $2::uuid AND o.message_id IS NULL AND o.status IN ('PENDING', 'SENDING')) AS unrouted_others
       FROM s CROSS JOIN m LEFT JOIN user_alerts a ON a.id = $2::uuid`,
    values: [userId, alertId],
  });
  const r = rows[0]!;
  return {
    openDigestId: r.open_digest_id,
    recent: Boolean(r.recent),
    digestAt: r.digest_at,
    nextDigestAt: r.next_digest_at,
    digestsOff: r.digests_off,
    today: r.today,
    cap: r.cap,
    alert: r.alert_status === null ? null : { status: r.alert_status, messageId: r.alert_message_id },
    unroutedOthers: r.unrouted_others,
  };
}

/** Deletes a digest opened for alerts that were all taken by other statements meanwhile (none joined it). */
export async function dropEmptyDigest(tx: Queryable, messageId: string): Promise<void> {
  await tx.query(
    `DELETE FROM alert_messages m WHERE m.id = $1::uuid AND m.kind = 'digest' AND NOT EXISTS (SELECT FROM user_alerts a WHERE a.message_id = m.id)`,
    [messageId],
  );
}

/**
 * Opens a message for the learner: a single (SENDING at once, under its alert's claim) or
 * a digest (PENDING until `sendAfter`). A second open digest for one learner is refused by
 * alert_messages_one_open_digest; the caller holds the routing lock, so none is tried.
 */
export async function openMessage(
  tx: Queryable,
  o: { userId: string; kind: MessageKind; reachesCap: boolean; sendAfter?: Date },
): Promise<{ id: string; sendAfter: Date }> {
  const { rows } = await tx.query<{ id: string; send_after: Date }>(
    `INSERT INTO alert_messages (user_id, kind, status, reaches_cap, send_after)
     VALUES ($1::uuid, $2::text, CASE WHEN $2::text = 'single' THEN 'SENDING' ELSE 'PENDING' END::alert_status, $3::boolean, coalesce($4::timestamptz, now()))
     RETURNING id, send_after`,
    [o.userId, o.kind, o.reachesCap, o.sendAfter ?? null],
  );
  return { id: rows[0]!.id, sendAfter: rows[0]!.send_after };
}

/** A single message's state, for an alert routed before (a retry reuses its message). */
export async function singleMessage(db: Queryable, messageId: string): Promise<{ status: MessageStatus; reachesCap: boolean } | null> {
  const { rows } = await db.query<{ status: MessageStatus; reaches_cap: boolean }>(
    `SELECT status, reaches_cap FROM alert_messages WHERE id = $1::uuid AND kind = 'single'`,
    [messageId],
  );
  return rows[0] ? { status: rows[0].status, reachesCap: rows[0].reaches_cap } : null;
}

/**
 * A CTE (named `name`) that marks single messages SENT together with their alerts, for
 * store.ts's SENT mark to compose: $ids, $channels, $providerIds are parallel arrays.
 */
export function singleMessagesSentCte(name: string, ids: string, channels: string, providerIds: string): string {
  return `${name} AS (
    UPDATE alert_messages m
       SET status = 'SENT', sent_at = now(), lease_until = NULL, channel = x.channel, provider_message_id = x.provider_message_id, last_error = NULL
      FROM unnest(${ids}::uuid[], ${channels}::notification_method[], ${providerIds}::text[]) AS x(id, channel, provider_message_id)
     WHERE m.id = x.id AND m.kind = 'single' AND m.status IN ('PENDING', 'SENDING')
    RETURNING m.id)`;
}

/** Ends an unfinished message (a single whose alert was skipped or failed, a digest with nothing left). */
export async function finishMessage(db: Queryable, messageId: string, status: 'SKIPPED' | 'FAILED', reason: string): Promise<void> {
  await db.query(
    `UPDATE alert_messages SET status = $2::alert_status, lease_until = NULL, last_error = $3::text
      WHERE id = $1::uuid AND status IN ('PENDING', 'SENDING')`,
    [messageId, status, scrubReason(reason)],
  );
}

/** A claimed digest: who it goes to, and whether it brings them to their daily cap. */
export interface ClaimedDigest {
  id: string;
  userId: string;
  attempts: number;
  reachesCap: boolean;
  email: string;
  firstName: string | null;
}

/**
 * Claims a digest for one send: PENDING (or SENDING whose lease ran out) becomes SENDING
 * with a lease and one more attempt, but only once it is due, its learner is active and
 * their quiet hours are not in force. One statement, like an alert's claim.
 */
export async function claimDigest(db: Queryable, messageId: string, leaseSeconds: number): Promise<ClaimedDigest | null> {
  const { rows } = await db.query<{ id: string; user_id: string; attempts: number; reaches_cap: boolean; email: string; first_name: string | null }>(
    `UPDATE alert_messages m
        SET status = 'SENDING', lease_until = now() + make_interval(secs => $2::int), attempts = m.attempts + 1
       FROM users u
      WHERE m.id = $1::uuid AND u.id = m.user_id AND m.kind = 'digest'
        AND (m.status = 'PENDING' OR (m.status = 'SENDING' AND m.lease_until <= now()))
        AND m.send_after <= now() AND u.is_active
        AND user_quiet_hours_until(u.quiet_hours_start, u.quiet_hours_end, now()) IS NULL
      RETURNING m.id, m.user_id, m.attempts, m.reaches_cap, u.email, u.first_name`,
    [messageId, leaseSeconds],
  );
  const r = rows[0];
  return r ? { id: r.id, userId: r.user_id, attempts: r.attempts, reachesCap: r.reaches_cap, email: r.email, firstName: r.first_name } : null;
}

/** Why a digest could not be claimed. */
export interface DigestState {
  status: MessageStatus;
  leaseLiveUntil: Date | null;
  /** When it is due, if not yet. */
  notBefore: Date | null;
  userActive: boolean;
  quietUntil: Date | null;
}

export async function readDigestState(db: Queryable, messageId: string): Promise<DigestState | null> {
  const { rows } = await db.query<{ status: MessageStatus; lease_live_until: Date | null; not_before: Date | null; user_active: boolean; quiet_until: Date | null }>(
    `SELECT m.status,
            CASE WHEN m.status = 'SENDING' AND m.lease_until > now() THEN m.lease_until END AS lease_live_until,
            CASE WHEN m.send_after > now() THEN m.send_after END AS not_before,
            u.is_active AS user_active,
            user_quiet_hours_until(u.quiet_hours_start, u.quiet_hours_end, now()) AS quiet_until
       FROM alert_messages m JOIN users u ON u.id = m.user_id
      WHERE m.id = $1::uuid AND m.kind = 'digest'`,
    [messageId],
  );
  const r = rows[0];
  return r ? { status: r.status, leaseLiveUntil: r.lease_live_until, notBefore: r.not_before, userActive: r.user_active, quietUntil: r.quiet_until } : null;
}

/** Marks a claimed digest SENT; false when it was no longer SENDING. */
export async function markDigestSent(db: Queryable, messageId: string, channel: Channel, providerMessageId: string | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE alert_messages SET status = 'SENT', sent_at = now(), lease_until = NULL, channel = $2::notification_method,
            provider_message_id = $3::text, last_error = NULL
      WHERE id = $1::uuid AND status = 'SENDING'`,
    [messageId, channel, providerMessageId],
  );
  return rowCount === 1;
}

/** Gives a digest's claim back, to be retried later. */
export async function releaseDigest(db: Queryable, messageId: string, error: string | null): Promise<void> {
  await db.query(
    `UPDATE alert_messages SET status = 'PENDING', lease_until = NULL, last_error = coalesce($2::text, last_error)
      WHERE id = $1::uuid AND status = 'SENDING'`,
    [messageId, error === null ? null : scrubReason(error)],
  );
}

/** Renews a digest's lease while its send is running; false when it is no longer SENDING. */
export async function extendDigestLease(db: Queryable, messageId: string, leaseSeconds: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE alert_messages SET lease_until = now() + make_interval(secs => $2::int) WHERE id = $1::uuid AND status = 'SENDING'`,
    [messageId, leaseSeconds],
  );
  return rowCount === 1;
}

/** Records that the digests were handed to a deliveries queue just now. */
export async function markDigestsEnqueued(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length) await db.query(`UPDATE alert_messages SET enqueued_at = now() WHERE id = ANY ($1::uuid[])`, [ids]);
}

/**
 * Digests that lost their way to a deliveries queue: PENDING and due for longer than
 * `requeueSeconds` (the job was lost, or never added after a crash), or SENDING with a
 * lease that ran out (a sender died). Oldest first.
 */
export async function strandedDigests(db: Queryable, requeueSeconds: number, limit: number): Promise<{ id: string; userId: string }[]> {
  const { rows } = await db.query<{ id: string; userId: string }>(
    `SELECT id, user_id AS "userId" FROM alert_messages
      WHERE kind = 'digest'
        AND ((status = 'PENDING' AND send_after < now() - make_interval(secs => $1::double precision))
          OR (status = 'SENDING' AND lease_until <= now()))
      ORDER BY send_after LIMIT $2::int`,
    [requeueSeconds, limit],
  );
  return rows;
}

/** Every PENDING digest with when it is due, soonest first: what a queue rebuilt from nothing must hold. */
export async function pendingDigests(db: Queryable, limit: number): Promise<{ id: string; userId: string; sendAfter: Date | null }[]> {
  const { rows } = await db.query<{ id: string; user_id: string; send_after: Date | null }>(
    `SELECT id, user_id, send_after FROM alert_messages WHERE kind = 'digest' AND status = 'PENDING' ORDER BY send_after LIMIT $1::int`,
    [limit],
  );
  return rows.map((r) => ({ id: r.id, userId: r.user_id, sendAfter: r.send_after }));
}

/** Deletes a learner's messages (their alerts first: store.ts deleteAlertsOf does both). */
export async function deleteUserMessages(db: Queryable, userId: string): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM alert_messages WHERE user_id = $1::uuid`, [userId]);
  return rowCount ?? 0;
}

/** One message as its learner's data export shows it. */
export interface MessageRecord {
  id: string;
  kind: MessageKind;
  status: MessageStatus;
  channel: Channel | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** Every message to the user, newest first (the alerts each carried name it by messageId). */
export async function messagesOfUser(db: Queryable, userId: string): Promise<MessageRecord[]> {
  const { rows } = await db.query<{
    id: string; kind: MessageKind; status: MessageStatus; channel: Channel | null; attempts: number;
    last_error: string | null; created_at: Date; sent_at: Date | null;
  }>(
    `SELECT id, kind, status::text AS status, channel::text AS channel, attempts, last_error, created_at, sent_at
       FROM alert_messages WHERE user_id = $1::uuid ORDER BY created_at DESC, id`,
    [userId],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    status: r.status,
    channel: r.channel,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
  }));
}
