/** The users table: accounts for learners (CLIENT) and staff (OPERATOR, ADMIN). */
import type { Queryable } from '../db/types.js';
import { sqlState } from '../db/types.js';
import type { AuthUser, Role } from './roles.js';

export interface NewUser {
  email: string;
  passwordHash: string;
  role: Role;
  firstName?: string | null;
  lastName?: string | null;
}

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}

/** Inserts a user; throws EmailTakenError when the address (any letter case) has an account. */
export async function createUser(db: Queryable, u: NewUser): Promise<AuthUser> {
  try {
    const { rows } = await db.query<AuthUser>(
      `INSERT INTO users (email, password_hash, role, first_name, last_name)
       VALUES ($1::text, $2::text, $3::user_role, $4::text, $5::text)
       RETURNING id, email, role::text AS role`,
      [u.email, u.passwordHash, u.role, u.firstName ?? null, u.lastName ?? null],
    );
    return rows[0]!;
  } catch (err) {
    if (sqlState(err) === '23505' && (err as { constraint?: string }).constraint === 'users_email_lower_key') {
      throw new EmailTakenError('an account with this email already exists');
    }
    throw err;
  }
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
