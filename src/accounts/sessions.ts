/**
 * Bearer tokens: 32 random bytes shown to the client once; only their SHA-256 is stored
 * (sessions.token_hash), so a copy of the database lets nobody sign in. Sessions expire
 * and are revoked by logout.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import type { AuthUser } from './roles.js';

const TOKEN_PREFIX = 'sw_';
const TOKEN_SHAPE = /^sw_[A-Za-z0-9_-]{43}$/;

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Opens a session for `userId` lasting `hours`; returns the token (never stored) and its expiry. */
export async function createSession(
  db: Queryable,
  userId: string,
  hours: number,
  ip?: string,
): Promise<{ token: string; expiresAt: Date }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const { rows } = await db.query<{ expires_at: Date }>(
    `INSERT INTO sessions (user_id, token_hash, expires_at, ip)
     VALUES ($1::uuid, $2::bytea, now() + make_interval(hours => $3::int), $4::inet)
     RETURNING expires_at`,
    [userId, tokenHash(token), hours, ip ?? null],
  );
  return { token, expiresAt: rows[0]!.expires_at };
}

/** The active user behind a token, or null when it is malformed, unknown, expired or revoked. */
export async function userForToken(db: Queryable, token: string): Promise<AuthUser | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  // named: parsed and planned once per connection, as it runs before every signed-in request
  const { rows } = await db.query<AuthUser>({
    name: 'session-user',
    text: `SELECT u.id, u.email, u.role::text AS role
             FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = $1::bytea AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active`,
    values: [tokenHash(token)],
  });
  return rows[0] ?? null;
}

/** Revokes the session of a token; true when one was active. */
export async function revokeSession(db: Queryable, token: string): Promise<boolean> {
  if (!TOKEN_SHAPE.test(token)) return false;
  const { rowCount } = await db.query(
    `UPDATE sessions SET revoked_at = now() WHERE token_hash = $1::bytea AND revoked_at IS NULL`,
    [tokenHash(token)],
  );
  return (rowCount ?? 0) > 0;
}

/** Revokes every live session of the user (sign out everywhere, a password reset); returns how many. */
export async function revokeAllSessions(db: Queryable, userId: string): Promise<number> {
  const { rowCount } = await db.query(`UPDATE sessions SET revoked_at = now() WHERE user_id = $1::uuid AND revoked_at IS NULL`, [userId]);
  return rowCount ?? 0;
}

/** Revokes every live session of the user but the one of `keepToken` (a password change); returns how many. */
export async function revokeOtherSessions(db: Queryable, userId: string, keepToken: string | undefined): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE sessions SET revoked_at = now() WHERE user_id = $1::uuid AND revoked_at IS NULL AND token_hash IS DISTINCT FROM $2::bytea`,
    [userId, keepToken && TOKEN_SHAPE.test(keepToken) ? tokenHash(keepToken) : null],
  );
  return rowCount ?? 0;
}

/** Deletes sessions that expired or were revoked more than `days` ago. */
export async function deleteStaleSessions(db: Queryable, days = 7, limit = 5000): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM sessions WHERE id = ANY (ARRAY(
       SELECT id FROM sessions WHERE coalesce(revoked_at, expires_at) < now() - make_interval(days => $1::int) LIMIT $2::int))`,
    [days, limit],
  );
  return rowCount ?? 0;
}

/** A session as its owner's data export shows it (never the token or its hash). */
export interface SessionRecord {
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  ip: string | null;
}

/** The user's sessions, newest first. */
export async function listSessions(db: Queryable, userId: string): Promise<SessionRecord[]> {
  const { rows } = await db.query<{ created_at: Date; expires_at: Date; revoked_at: Date | null; ip: string | null }>(
    `SELECT created_at, expires_at, revoked_at, host(ip) AS ip FROM sessions WHERE user_id = $1::uuid ORDER BY created_at DESC, id`,
    [userId],
  );
  return rows.map((r) => ({ createdAt: r.created_at.toISOString(), expiresAt: r.expires_at.toISOString(), revokedAt: r.revoked_at?.toISOString() ?? null, ip: r.ip }));
}

/** Deletes every session of the user (an erasure): each of their tokens and cookies stops working. */
export async function deleteSessionsOf(tx: Queryable, userId: string): Promise<number> {
  const { rowCount } = await tx.query(`DELETE FROM sessions WHERE user_id = $1::uuid`, [userId]);
  return rowCount ?? 0;
}
