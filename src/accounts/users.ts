/**
 * The users table: accounts for learners (CLIENT) and staff (OPERATOR, ADMIN). Every
 * statement that writes it is here.
 */
import type { Queryable } from '../db/types.js';
import { sqlState } from '../db/types.js';
import type { AuthUser, Role } from './roles.js';

export interface NewUser {
  email: string;
  passwordHash: string;
  role: Role;
  firstName?: string | null;
  lastName?: string | null;
  /**
   * Whether the address counts as proven from the start: true (the default) for accounts
   * made by staff, the demo and tests; self-registration goes through registerUser, whose
   * accounts start unverified.
   */
  verified?: boolean;
}

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}

/** Inserts a user; throws EmailTakenError when the address (any letter case) has an account. */
export async function createUser(db: Queryable, u: NewUser): Promise<AuthUser> {
  try {
    const { rows } = await db.query<AuthUser>(
      `INSERT INTO users (email, password_hash, role, first_name, last_name, email_verified_at)
       VALUES ($1::text, $2::text, $3::user_role, $4::text, $5::text, CASE WHEN $6::boolean THEN now() END)
       RETURNING id, email, role::text AS role`,
      [u.email, u.passwordHash, u.role, u.firstName ?? null, u.lastName ?? null, u.verified ?? true],
    );
    return rows[0]!;
  } catch (err) {
    if (sqlState(err) === '23505' && (err as { constraint?: string }).constraint === 'users_email_lower_key') {
      throw new EmailTakenError('an account with this email already exists');
    }
    throw err;
  }
}

export type Registration =
  | { created: true; userId: string }
  | { created: false; userId: string; verified: boolean }
  /** The address was taken by a sign-up running at the same moment, not yet visible here. */
  | { created: false; userId: null; verified: true };

/**
 * Self-registration: inserts an unverified learner unless the address (any letter case)
 * has an account, and says which happened. One statement either way, so both cost the same.
 */
export async function registerUser(db: Queryable, u: { email: string; passwordHash: string; firstName?: string | null; lastName?: string | null }): Promise<Registration> {
  const { rows } = await db.query<{ id: string; created: boolean; verified: boolean }>(
    `WITH made AS (
       INSERT INTO users (email, password_hash, role, first_name, last_name)
       VALUES ($1::text, $2::text, 'CLIENT', $3::text, $4::text)
       ON CONFLICT DO NOTHING RETURNING id)
     SELECT id, true AS created, false AS verified FROM made
     UNION ALL
     SELECT id, false, email_verified_at IS NOT NULL FROM users
      WHERE lower(email) = lower($1::text) AND NOT EXISTS (SELECT FROM made)`,
    [u.email, u.passwordHash, u.firstName ?? null, u.lastName ?? null],
  );
  const r = rows[0];
  if (!r) return { created: false, userId: null, verified: true };
  return r.created ? { created: true, userId: r.id } : { created: false, userId: r.id, verified: r.verified };
}

/** The id of the active account with this address (any letter case), and whether it is verified; null when there is none. */
export async function findAccountByEmail(db: Queryable, email: string): Promise<{ id: string; email: string; verified: boolean } | null> {
  const { rows } = await db.query<{ id: string; email: string; verified: boolean }>(
    `SELECT id, email, email_verified_at IS NOT NULL AS verified FROM users WHERE lower(email) = lower($1::text) AND is_active`,
    [email],
  );
  return rows[0] ?? null;
}

/** The account's address and whether it is verified, by id; null when there is no such active user. */
export async function findAccount(db: Queryable, userId: string): Promise<{ id: string; email: string; verified: boolean; passwordHash: string } | null> {
  const { rows } = await db.query<{ id: string; email: string; verified: boolean; passwordHash: string }>(
    `SELECT id, email, email_verified_at IS NOT NULL AS verified, password_hash AS "passwordHash" FROM users WHERE id = $1::uuid AND is_active`,
    [userId],
  );
  return rows[0] ?? null;
}

/** Records that the user proved the address (a verification link or a password reset); the first proof's time is kept. */
export async function markEmailVerified(db: Queryable, userId: string): Promise<void> {
  await db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1::uuid AND email_verified_at IS NULL`, [userId]);
}

/** Replaces the user's password hash. */
export async function setPasswordHash(db: Queryable, userId: string, passwordHash: string): Promise<void> {
  await db.query(`UPDATE users SET password_hash = $2::text WHERE id = $1::uuid`, [userId, passwordHash]);
}

/** An active user and their password hash by email (any letter case), for login. */
export async function findLoginUser(db: Queryable, email: string): Promise<(AuthUser & { passwordHash: string }) | null> {
  const { rows } = await db.query<AuthUser & { passwordHash: string }>(
    `SELECT id, email, role::text AS role, password_hash AS "passwordHash"
       FROM users WHERE lower(email) = lower($1::text) AND is_active`,
    [email],
  );
  return rows[0] ?? null;
}

/**
 * Inserts many users sharing one password hash in one statement (a demo's learners: hashing
 * each with OWASP parameters would take minutes). Returns their ids by email.
 */
export async function createUsersInBulk(db: Queryable, emails: string[], passwordHash: string, role: Role): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; email: string }>(
    `INSERT INTO users (email, password_hash, role, email_verified_at)
     SELECT e, $2::text, $3::user_role, now() FROM unnest($1::text[]) e RETURNING id, email`,
    [emails, passwordHash, role],
  );
  return new Map(rows.map((r) => [r.email, r.id]));
}

// A user's own quiet hours (Europe/London wall-clock), when alerts wait rather than arrive.

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

/** The user's own cap on alert messages per Europe/London day, or null when they keep the admin's. */
export async function getAlertDailyCap(db: Queryable, userId: string): Promise<number | null> {
  const { rows } = await db.query<{ alert_daily_cap: number | null }>(`SELECT alert_daily_cap FROM users WHERE id = $1::uuid`, [userId]);
  return rows[0]?.alert_daily_cap ?? null;
}

/** Sets (or with null, clears) the user's own daily cap; only a cap below the admin's has any effect. */
export async function setAlertDailyCap(db: Queryable, userId: string, cap: number | null): Promise<void> {
  await db.query(`UPDATE users SET alert_daily_cap = $2::int WHERE id = $1::uuid`, [userId, cap]);
}

// An account as its owner may see all of it (the export), and its erasure.

/** Everything the users row holds about a person, as their data export gives it. */
export interface Account {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  role: Role;
  priority: 'NORMAL' | 'VIP' | 'URGENT';
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
  /** When the address was proved (a verification link or a password reset); null until then. */
  emailVerifiedAt: string | null;
  quietHours: QuietHours | null;
}

/** The user's own account, or null when there is no such user. */
export async function getAccount(db: Queryable, userId: string): Promise<Account | null> {
  const { rows } = await db.query<{
    id: string; email: string; first_name: string | null; last_name: string | null; role: Role; priority: Account['priority'];
    is_active: boolean; created_at: Date; updated_at: Date; email_verified_at: Date | null; quiet_start: string | null; quiet_end: string | null;
  }>(
    `SELECT id, email, first_name, last_name, role::text AS role, priority::text AS priority, is_active, created_at, updated_at, email_verified_at,
            to_char(quiet_hours_start, 'HH24:MI') AS quiet_start, to_char(quiet_hours_end, 'HH24:MI') AS quiet_end
       FROM users WHERE id = $1::uuid`,
    [userId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    role: r.role,
    priority: r.priority,
    isActive: r.is_active,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    emailVerifiedAt: r.email_verified_at?.toISOString() ?? null,
    quietHours: r.quiet_start && r.quiet_end ? { start: r.quiet_start, end: r.quiet_end } : null,
  };
}

/** The stored password hash of a user, or null when there is no such user. */
export async function passwordHashOf(db: Queryable, userId: string): Promise<string | null> {
  const { rows } = await db.query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE id = $1::uuid`, [userId]);
  return rows[0]?.password_hash ?? null;
}

/** What identifies a person in free text (their email and names), and their password hash. */
export interface PersonalDetails {
  email: string;
  firstName: string | null;
  lastName: string | null;
  passwordHash: string;
}

/**
 * Locks the user's row for the rest of the caller's transaction (an erasure): nothing can
 * add a watch, a hold or a session for them until it ends. Null when there is no such user.
 */
export async function lockUser(tx: Queryable, userId: string): Promise<PersonalDetails | null> {
  const { rows } = await tx.query<PersonalDetails>(
    `SELECT email, first_name AS "firstName", last_name AS "lastName", password_hash AS "passwordHash"
       FROM users WHERE id = $1::uuid FOR UPDATE`,
    [userId],
  );
  return rows[0] ?? null;
}

/**
 * Deletes the users row. Its foreign keys cascade to what is the user's alone and detach
 * what others keep (appointments, audit entries, appointment events: user id set to null).
 */
export async function deleteUser(tx: Queryable, userId: string): Promise<boolean> {
  const { rowCount } = await tx.query(`DELETE FROM users WHERE id = $1::uuid`, [userId]);
  return (rowCount ?? 0) > 0;
}
