/**
 * Signing in with an email and password, the one way for every form: the API's token
 * login, the learner pages' cookie session and the queue board's. All of them share the
 * sign-in limits (login-limits.ts), so trying another door does not reset a count, and an
 * unknown email costs as much time as a wrong password.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { checkCredentials } from '../accounts/credentials.js';
import type { AuthUser, Role } from '../accounts/roles.js';
import { createSession, revokeSession } from '../accounts/sessions.js';
import { notAFailure, rememberDevice } from './login-limits.js';

export { loginRateLimit } from './login-limits.js';

export type SignIn =
  | { ok: true; user: AuthUser; token: string; expiresAt: Date }
  | { ok: false; reason: 'INVALID_CREDENTIALS' | 'FORBIDDEN' };

export interface SignInOptions {
  /** Only a user of this role may sign in here; anyone else is FORBIDDEN and gets no session. */
  role?: Role;
  /** How long the session lasts; SESSION_HOURS unless a door wants less. */
  hours?: number;
  /** The session this sign-in replaces (the cookie's previous one), revoked once the new one exists. */
  replaces?: string | undefined;
}

/**
 * Checks the credentials and opens a session for the user they name. The route must have
 * loginRateLimit(app) in its preHandler, which counts the attempt as a failure until the
 * password proves right; a right one also gives the browser its device cookie for the address.
 */
export async function signIn(request: FastifyRequest, reply: FastifyReply, credentials: { email: string; password: string }, o: SignInOptions = {}): Promise<SignIn> {
  const { pool, config } = request.server.deps;
  let user;
  try {
    user = await checkCredentials(pool, credentials.email, credentials.password);
  } catch (err) {
    await notAFailure(request); // our failure, not the caller's
    throw err;
  }
  if (!user) return { ok: false, reason: 'INVALID_CREDENTIALS' };
  // the password was right: the browser is the owner's, whatever the role this door wants
  await notAFailure(request);
  rememberDevice(request, reply);
  if (o.role && user.role !== o.role) return { ok: false, reason: 'FORBIDDEN' };
  if (o.replaces) await revokeSession(pool, o.replaces);
  const { token, expiresAt } = await createSession(pool, user.id, o.hours ?? config.SESSION_HOURS, request.ip);
  return { ok: true, user: { id: user.id, email: user.email, role: user.role }, token, expiresAt };
}
