/**
 * The single-use links mailed about an account: verifying its address and resetting its
 * password. A token is 32 random bytes shown once, in the link; only its SHA-256 is stored
 * (account_tokens.token_hash), so the table proves and resets nothing. Every statement that
 * writes account_tokens is here.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/types.js';

export type TokenPurpose = 'verify' | 'reset';

/** How long each kind of link works. */
export const TOKEN_MINUTES: Record<TokenPurpose, number> = { verify: 48 * 60, reset: 30 };

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Whether `token` has the shape of one we hand out (anything else is not looked up). */
export function isTokenShaped(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** Makes a link token for `userId`; returns the token, which is never stored. */
export async function issueToken(db: Queryable, userId: string, purpose: TokenPurpose): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    `INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at)
     VALUES ($1::uuid, $2::account_token_purpose, $3::bytea, now() + make_interval(mins => $4::int))`,
    [userId, purpose, tokenHash(token), TOKEN_MINUTES[purpose]],
  );
  return token;
}

export type Spent = { ok: true; userId: string } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

async function lookUp(db: Queryable, token: string, purpose: TokenPurpose, lock: boolean): Promise<Spent> {
  if (!isTokenShaped(token)) return { ok: false, reason: 'unknown' };
  const { rows } = await db.query<{ user_id: string; live: boolean; used: boolean }>(
    `SELECT user_id, used_at IS NULL AND expires_at > now() AS live, used_at IS NOT NULL AS used
       FROM account_tokens WHERE token_hash = $1::bytea AND purpose = $2::account_token_purpose${lock ? ' FOR UPDATE' : ''}`,
    [tokenHash(token), purpose],
  );
  const row = rows[0];
  if (!row) return { ok: false, reason: 'unknown' };
  if (!row.live) return { ok: false, reason: row.used ? 'used' : 'expired' };
  return { ok: true, userId: row.user_id };
}

/** What spending the token now would answer, without spending it (to refuse a dead link before costly work). */
export function peekToken(db: Queryable, token: string, purpose: TokenPurpose): Promise<Spent> {
  return lookUp(db, token, purpose, false);
}

/**
 * Spends a token: its user when it was live, else why not. Spending one spends every other
 * live token of the same user and purpose too, so an older link mailed before cannot be
 * used afterwards. Run it in the transaction that acts on the answer.
 */
export async function spendToken(db: Queryable, token: string, purpose: TokenPurpose): Promise<Spent> {
  const found = await lookUp(db, token, purpose, true);
  if (!found.ok) return found;
  await db.query(
    `UPDATE account_tokens SET used_at = now()
      WHERE user_id = $1::uuid AND purpose = $2::account_token_purpose AND used_at IS NULL`,
    [found.userId, purpose],
  );
  return found;
}

/** Deletes tokens that expired more than `days` ago (a spent or expired link is still named as such until then). */
export async function deleteStaleTokens(db: Queryable, days = 7, limit = 5000): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM account_tokens WHERE id = ANY (ARRAY(SELECT id FROM account_tokens WHERE expires_at < now() - make_interval(days => $1::int) LIMIT $2::int))`,
    [days, limit],
  );
  return rowCount ?? 0;
}
