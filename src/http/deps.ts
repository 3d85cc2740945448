/** What the HTTP app is built from: created once by the web entry (or a test) and passed in. */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AuthUser, Role } from '../accounts/roles.js';
import type { Config } from '../config.js';
import type { Queues } from '../queues/queues.js';
import type { onRequestHookHandler, preHandlerHookHandler } from 'fastify';

export interface AppDeps {
  config: Config;
  pool: pg.Pool;
  /** A producer-role connection (src/queues/redis.ts): fails fast when Redis is away. */
  redis: Redis;
  queues: Queues;
  log: Logger;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /** Every route registered (method, path), for tests that walk them all. */
    routeTable: { method: string; url: string }[];
    /** onRequest hook: 401 unless the request carries a live bearer token; sets request.user. */
    authenticate: onRequestHookHandler;
    /** onRequest hook: authenticate, then 403 unless the user has one of `roles`. */
    requireRole(...roles: Role[]): onRequestHookHandler;
    /** preHandler hook: 429 with Retry-After once `key(request)` has made `max` requests in a minute. */
    rateLimit(name: string, max: number, key: (request: FastifyRequest) => string): preHandlerHookHandler;
    /** The same for several limits at once, counted in one Redis round trip. */
    rateLimit(limits: { name: string; max: number; key: (request: FastifyRequest) => string }[]): preHandlerHookHandler;
  }
  interface FastifyRequest {
    /** The signed-in user on routes behind authenticate/requireRole; null elsewhere. */
    user: AuthUser | null;
  }
}
