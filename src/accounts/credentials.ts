import type { Queryable } from '../db/types.js';
import { verifyAgainstDummy, verifyPassword } from './passwords.js';
import type { AuthUser } from './roles.js';
import { findLoginUser, passwordHashOf } from './users.js';

/**
 * The active user with this email and password, or null. An unknown email still costs one
 * password verification, so response time does not tell which emails have accounts.
 */
export async function checkCredentials(db: Queryable, email: string, password: string): Promise<AuthUser | null> {
  const user = await findLoginUser(db, email);
  const ok = user ? await verifyPassword(password, user.passwordHash) : await verifyAgainstDummy(password);
  return user && ok ? { id: user.id, email: user.email, role: user.role } : null;
}

/**
 * The signed-in user's stored password hash when `password` is their password, else null:
 * the check before something that needs the password again (deleting the account). The
 * hash lets the caller's transaction see that it has not changed since.
 */
export async function confirmPassword(db: Queryable, userId: string, password: string): Promise<string | null> {
  const hash = await passwordHashOf(db, userId);
  const ok = hash ? await verifyPassword(password, hash) : await verifyAgainstDummy(password);
  return hash && ok ? hash : null;
}
