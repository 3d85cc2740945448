/**
 * How a request says who it is, in one place: a bearer token (API clients), the learner
 * pages' cookie `sw_session`, and the queue board's cookie `sw_admin`. All three hold a
 * session token from the same sessions table, so logout, expiry and revocation work the
 * same; @fastify/cookie (registered once, at the app's root) reads and writes the cookies.
 *
 * `sw_session` is HttpOnly so page scripts never see it, SameSite=Lax so an alert link
 * opened from a mail client still arrives signed in, Secure when PUBLIC_BASE_URL is https.
 * `sw_admin` is HttpOnly, SameSite=Strict and scoped to /admin.
 *
 * CSRF: a cookie rides along on cross-site requests, so every cookie-authenticated request
 * that changes state must also carry `x-csrf-token` (or a form's `_csrf`). The token is a
 * digest of the session token: a page can be given it, another site cannot compute it
 * without the HttpOnly cookie, and nothing has to be stored for it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { AuthUser } from '../accounts/roles.js';
import { userForToken } from '../accounts/sessions.js';

export const SESSION_COOKIE = 'sw_session';
export const ADMIN_COOKIE = 'sw_admin';
export const CSRF_HEADER = 'x-csrf-token';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
// the token alphabet (accounts/sessions.ts): anything else in a cookie is not ours to look up
const TOKEN_SHAPE = /^sw_[A-Za-z0-9_-]{43}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The bearer token of a request, if it sent one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return (typeof header === 'string' && BEARER.exec(header)?.[1]) || undefined;
}

function cookieToken(request: FastifyRequest, name: string): string | undefined {
  const value = request.cookies?.[name];
  return value && TOKEN_SHAPE.test(value) ? value : undefined;
}

/** The session token in the request's learner cookie, if it carries a well-formed one. */
export function sessionCookieToken(request: FastifyRequest): string | undefined {
  return cookieToken(request, SESSION_COOKIE);
}

/** The session token in the request's queue-board cookie, if it carries a well-formed one. */
export function adminCookieToken(request: FastifyRequest): string | undefined {
  return cookieToken(request, ADMIN_COOKIE);
}

/** Whether cookies must be Secure: the site is served over https. */
export function secureCookies(publicBaseUrl: string): boolean {
  return publicBaseUrl.startsWith('https://');
}

/** Sets the learner cookie to `token` until `expiresAt`. */
export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date, secure: boolean): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  reply.setCookie(SESSION_COOKIE, token, { maxAge, expires: expiresAt, path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** Removes the learner cookie from the browser. */
export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** Sets the queue board's cookie to `token` until `expiresAt`. */
export function setAdminCookie(reply: FastifyReply, token: string, expiresAt: Date, secure: boolean): void {
  reply.setCookie(ADMIN_COOKIE, token, { expires: expiresAt, path: '/admin', httpOnly: true, sameSite: 'strict', secure });
}

/** Removes the queue board's cookie from the browser. */
export function clearAdminCookie(reply: FastifyReply): void {
  reply.clearCookie(ADMIN_COOKIE, { path: '/admin' });
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

/** A learner page's view of the cookie session: who is signed in, and their CSRF token. */
export interface PageSession {
  user: AuthUser;
  token: string;
  csrf: string;
}

/** The live session behind the request's learner cookie, or null. */
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
