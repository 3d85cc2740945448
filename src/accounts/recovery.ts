/**
 * What the account links and the password forms do, each in one transaction: verifying an
 * address, resetting a password by its link, changing it when signed in.
 */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import { spendToken, type Spent } from './account-tokens.js';
import { revokeAllSessions, revokeOtherSessions } from './sessions.js';
import { markEmailVerified, setPasswordHash } from './users.js';

/** Spends a verification link and marks its account's address verified (its watches may alert from now on). */
export function verifyEmail(pool: pg.Pool, token: string): Promise<Spent> {
  return withTransaction(pool, async (tx) => {
    const spent = await spendToken(tx, token, 'verify');
    if (spent.ok) await markEmailVerified(tx, spent.userId);
    return spent;
  });
}

/**
 * Spends a reset link and sets the new password: every session of the account is revoked,
 * and the address counts as verified (the link reached it).
 */
export function resetPassword(pool: pg.Pool, token: string, passwordHash: string): Promise<Spent> {
  return withTransaction(pool, async (tx) => {
    const spent = await spendToken(tx, token, 'reset');
    if (!spent.ok) return spent;
    await setPasswordHash(tx, spent.userId, passwordHash);
    await markEmailVerified(tx, spent.userId);
    await revokeAllSessions(tx, spent.userId);
    return spent;
  });
}

/** Sets a signed-in user's new password and revokes their other sessions, keeping the one of `keepToken`. */
export function changePassword(pool: pg.Pool, userId: string, passwordHash: string, keepToken: string | undefined): Promise<void> {
  return withTransaction(pool, async (tx) => {
    await setPasswordHash(tx, userId, passwordHash);
    await revokeOtherSessions(tx, userId, keepToken);
  });
}
