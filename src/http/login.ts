/**
 * Signing in with an email and password, the one way for every form: the API's token
 * login, the learner pages' cookie session and the queue board's. All of them share one
 * rate limit per IP and per email address, so trying another door does not reset the
 * count, and an unknown email costs as much time as a wrong password.
 */
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { checkCredentials } from '../accounts/credentials.js';
import type { AuthUser, Role } from '../accounts/roles.js';
import { createSession, revokeSession } from '../accounts/sessions.js';
import { loginLimits } from './rate-limit.js';

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

/** The preHandler that counts sign-in attempts (put it on every sign-in route). */
export function loginRateLimit(app: FastifyInstance): preHandlerHookHandler {
  return app.rateLimit(loginLimits(app.deps.config));
}

/** Checks the credentials and opens a session for the user they name. */
export async function signIn(request: FastifyRequest, credentials: { email: string; password: string }, o: SignInOptions = {}): Promise<SignIn> {
  const { pool, config } = request.server.deps;
  const user = await checkCredentials(pool, credentials.email, credentials.password);
  if (!user) return { ok: false, reason: 'INVALID_CREDENTIALS' };
  if (o.role && user.role !== o.role) return { ok: false, reason: 'FORBIDDEN' };
  if (o.replaces) await revokeSession(pool, o.replaces);
  const { token, expiresAt } = await createSession(pool, user.id, o.hours ?? config.SESSION_HOURS, request.ip);
  return { ok: true, user: { id: user.id, email: user.email, role: user.role }, token, expiresAt };
}
