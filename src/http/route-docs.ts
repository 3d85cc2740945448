/**
 * What the OpenAPI document says about a route beyond its own schema, derived rather than
 * written per route so it cannot drift: the error codes its hooks and its shape can answer,
 * and how it signs in. A hook says what it answers where it is made (hook-docs.ts);
 * fastify's own refusals follow from the route's method, path and schema. Also the
 * document's tags.
 */
import type { FastifySchema } from 'fastify';
import type { ErrorCode } from './error-codes.js';
import { hookDoc } from './hook-docs.js';
import { codesOf, errorReplies, errorReply } from './replies.js';

/** The document's tags, in the order Swagger UI lists them; a route names its own with tag(). */
export const TAGS = {
  Accounts: 'Sign up, sign in with a bearer token, sign out, who am I',
  'Learner session': 'The learner pages\' cookie session (sw_session) and its CSRF token',
  Slots: 'Search free test slots; hold one',
  Appointments: 'Your appointments: list, confirm a hold, cancel',
  Watches: 'What to alert you about: a place, a radius, test types, dates',
  'Quiet hours': 'When alerts should wait',
  Alerts: 'What you were alerted to, and your own daily cap',
  Push: 'Web push subscriptions for alerts in the browser',
  'Your data': 'Export everything held about you; delete your account',
  Operator: 'Centres, examiners, slots in bulk, no-shows (OPERATOR or ADMIN)',
  Admin: 'Runtime settings and the audit log (ADMIN)',
  Operations: 'Liveness, readiness and Prometheus metrics',
  Pages: 'The learner web pages (HTML), their assets and the one-click unsubscribe pages',
  'Queue board': 'The admin queue board and its sign-in (cookie sw_admin)',
  Docs: 'This document and Swagger UI',
} as const;

export type Tag = keyof typeof TAGS;

export const tag = (name: Tag): Tag[] => [name];

// the methods whose bodies fastify reads, and so can refuse
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BODY_CODES: ErrorCode[] = ['INVALID_JSON', 'BAD_CONTENT_LENGTH', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];

/** OpenAPI security requirements: any one of the alternatives; `{}` is "none needed". */
export type Security = Record<string, string[]>[];

/** The security requirements of a signed-in route: a bearer token, or the learner cookie (plus its CSRF header to change anything). */
export function signedInSecurity(changesState: boolean): Security {
  return [{ bearer: [] }, changesState ? { learnerCookie: [], csrfToken: [] } : { learnerCookie: [] }];
}

export interface RouteLike {
  method: string | string[];
  url: string;
  onRequest?: unknown;
  preValidation?: unknown;
  preHandler?: unknown;
}

/** `schema` (the route's own) with every error its hooks and shape can answer, and its security. */
export function documentRoute(route: RouteLike, schema: FastifySchema): FastifySchema {
  const methods = [route.method].flat();
  const changesState = methods.some((m) => BODY_METHODS.has(m));
  const docs = [route.onRequest, route.preValidation, route.preHandler].flat().map(hookDoc).filter((d) => d !== undefined);
  const signedIn = docs.some((d) => d.signedIn);

  const codes: ErrorCode[] = docs.flatMap((d) => d.codes);
  if (signedIn) codes.push('UNAUTHENTICATED');
  if (signedIn && changesState) codes.push('CSRF_INVALID');
  if (/[:*]/.test(route.url)) codes.push('BAD_URL', 'URI_TOO_LONG');
  if (changesState) codes.push(...BODY_CODES);
  if (schema.body || schema.querystring || schema.params || schema.headers) codes.push('VALIDATION_ERROR', 'INVALID_VALUE');
  // any route may meet a fault of ours, or find the database or Redis away for a moment
  codes.push('INTERNAL_ERROR', 'DEPENDENCY_UNAVAILABLE');

  const response: Record<string, unknown> = { ...(schema.response as Record<string, unknown> | undefined) };
  for (const [status, reply] of Object.entries(errorReplies(codes))) {
    const own = response[status];
    if (own !== undefined && codesOf(own).length === 0) {
      throw new Error(`${methods.join(',')} ${route.url}: its ${status} is not an error reply, but its hooks or shape can answer ${codesOf(reply).join(', ')} with it`);
    }
    response[status] = errorReply([...new Set([...codesOf(own), ...codesOf(reply)])]);
  }
  const security = schema.security ?? (signedIn ? signedInSecurity(changesState) : undefined);
  return { ...schema, response, ...(security ? { security } : {}) };
}
