/** The learner pages' view of the cookie session: who is signed in, and their CSRF token. */
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { AuthUser } from '../../accounts/roles.js';
import { userForToken } from '../../accounts/sessions.js';
import { csrfTokenFor, sessionCookieToken } from '../session.js';

export interface PageSession {
  user: AuthUser;
  token: string;
  csrf: string;
}

/** The live session behind the request's cookie, or null. */
export async function pageSession(pool: pg.Pool, request: FastifyRequest): Promise<PageSession | null> {
  const token = sessionCookieToken(request);
  if (!token) return null;
  const user = await userForToken(pool, token);
  return user ? { user, token, csrf: csrfTokenFor(token) } : null;
}

// a local path only: "//evil.example" and "/\evil.example" are other origins to a browser
const LOCAL_PATH = /^\/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;

/** `next` when it is a path on this site, else the default landing page. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && next.length <= 500 && LOCAL_PATH.test(next) ? next : '/watches';
}
