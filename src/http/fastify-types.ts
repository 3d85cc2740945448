/** What slotwatch adds to fastify's types: the app's dependencies, its auth and rate-limit hooks, the signed-in user. */
import type { onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import type { AccountMail } from '../accounts/account-mail.js';
import type { HashLane } from '../accounts/hash-lane.js';
import type { AuthUser, Role } from '../accounts/roles.js';
import type { Deps } from '../process/deps.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** What the app was built from: created once by the web entry (or a test) and passed in. */
    deps: Deps;
    /** The bound on new password hashes (sign-up, reset, change) in this process. */
    hashLane: HashLane;
    /** Account emails (verification, reset, sign-up attempts), sent after the answer. */
    accountMail: AccountMail;
    /** What /metrics renders: this app's registry (its request durations, the shared stores' figures). */
    metricsRegistry: Registry;
    /** Every route registered (method, path), for tests that walk them all. */
    routeTable: { method: string; url: string }[];
    /** onRequest hook: 401 unless the request carries a live bearer token; sets request.user. */
    authenticate: onRequestHookHandler;
    /** onRequest hook: authenticate, then 403 unless the user has one of `roles`. */
    requireRole(...roles: Role[]): onRequestHookHandler;
    /** preHandler hook: 429 with Retry-After once `key(request)` has made `max` requests in a minute. */
    rateLimit(name: string, max: number, key: (request: FastifyRequest) => string): preHandlerHookHandler;
    /** The same for several limits at once, counted in one Redis round trip; `failClosed` names what is refused (503) when Redis is down. */
    rateLimit(limits: { name: string; max: number; key: (request: FastifyRequest) => string }[], options?: { failClosed?: string }): preHandlerHookHandler;
  }
  interface FastifyRequest {
    /** The signed-in user on routes behind authenticate/requireRole; null elsewhere. */
    user: AuthUser | null;
  }
}
