/**
 * The security headers every response carries, whatever answered it (a route, a plugin's
 * static file, Swagger UI, Bull Board, the 404 handler, an error). A scope that knows
 * better (the learner pages' helmet policy, Swagger UI's, the queue board's) sets its own
 * and this leaves it alone: each header is only filled in where nothing set it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_COOKIE, SESSION_COOKIE, secureCookies } from './session.js';

/** For anything that is not a page: nothing may load from it, nothing may frame it. */
export const NON_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * For an HTML page without a policy of its own (the unsubscribe pages): the shared shell's
 * stylesheet from /assets, forms posting back here, no script at all.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A year, and the subdomains: what browsers' preload lists ask for. */
export const HSTS = 'max-age=31536000; includeSubDomains';

function carriesCredentials(request: FastifyRequest): boolean {
  if (request.headers.authorization !== undefined) return true;
  const cookies = request.cookies as Record<string, string | undefined> | undefined;
  return cookies?.[SESSION_COOKIE] !== undefined || cookies?.[ADMIN_COOKIE] !== undefined;
}

function contentType(reply: FastifyReply): string {
  return String(reply.getHeader('content-type') ?? '').toLowerCase();
}

function fill(reply: FastifyReply, name: string, value: string): void {
  if (!reply.hasHeader(name)) reply.header(name, value);
}

/** Adds the baseline to every response of `app` (call on the root instance, before the routes). */
export function registerSecurityHeaders(app: FastifyInstance, publicBaseUrl: string): void {
  const hsts = secureCookies(publicBaseUrl);
  app.addHook('onSend', async (request, reply, payload) => {
    const type = contentType(reply);
    fill(reply, 'x-content-type-options', 'nosniff');
    // the old header for browsers that do not know frame-ancestors
    fill(reply, 'x-frame-options', 'DENY');
    fill(reply, 'content-security-policy', type.startsWith('text/html') ? PAGE_CSP : NON_PAGE_CSP);
    // JSON answers are personal (a session's) or live (slots come and go): no cache keeps
    // them; so is anything answered to a credential or that hands one out
    if (type.includes('json') || carriesCredentials(request) || reply.hasHeader('set-cookie')) fill(reply, 'cache-control', 'no-store');
    if (hsts) fill(reply, 'strict-transport-security', HSTS);
    return payload;
  });
}
