/**
 * The learner pages' cookie session. The cookie `sw_session` holds a session token from the
 * same sessions table as bearer tokens (so logout, expiry and revocation work the same),
 * HttpOnly so page scripts never see it, SameSite=Lax so an alert link opened from a mail
 * client still arrives signed in, Secure when PUBLIC_BASE_URL is https.
 *
 * CSRF: a cookie rides along on cross-site requests, so every cookie-authenticated request
 * that changes state must also carry `x-csrf-token` (or a form's `_csrf`). The token is a
 * digest of the session token: a page can be given it, another site cannot compute it
 * without the HttpOnly cookie, and nothing has to be stored for it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'sw_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// the token alphabet (sessions.ts): anything else in the cookie is not ours to look up
const COOKIE_VALUE = /^sw_[A-Za-z0-9_-]{43}$/;

/** The session token in the request's `sw_session` cookie, if it carries a well-formed one. */
export function sessionCookieToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  // parsed here rather than by @fastify/cookie so the root authenticate hook can read it in
  // every plugin scope (the cookie plugin decorates only the scope it is registered in)
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (COOKIE_VALUE.test(value)) return value;
  }
  return undefined;
}

/** The CSRF token that goes with a session token. */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update('slotwatch csrf v1\0').update(sessionToken).digest('base64url');
}

/** True when `given` is the CSRF token of `sessionToken` (compared in constant time). */
export function csrfMatches(sessionToken: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length > 100) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** True for methods that must not change state, which need no CSRF token. */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** The CSRF token a request sent in its header. */
export function csrfHeader(request: FastifyRequest): string | undefined {
  const value = request.headers[CSRF_HEADER];
  return typeof value === 'string' ? value : undefined;
}

function cookieAttributes(secure: boolean): string {
  return `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Sets the session cookie to `token` until `expiresAt`. */
export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date, secure: boolean): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  reply.header('set-cookie', `${SESSION_COOKIE}=${token}; Max-Age=${maxAge}; Expires=${expiresAt.toUTCString()}; ${cookieAttributes(secure)}`);
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${cookieAttributes(secure)}`);
}
