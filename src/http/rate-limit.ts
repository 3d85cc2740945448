/**
 * Fixed one-minute windows counted in Redis, shared by every web process. A few lines of
 * our own rather than @fastify/rate-limit: a route needs two limits (per user and per IP)
 * checked in one round trip with keys we name, and a Redis outage should let bookings
 * through rather than refuse them, which a counter we own makes plain.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { Config } from '../config.js';
import { HttpError } from './errors.js';
import { documentHook } from './hook-docs.js';

const WINDOW_MS = 60_000;
// INCR each key, starting its window on the first request in it; returns 0 when every
// count is within its max (ARGV[i + 1]), else the ms until the longest exceeded window ends
const SCRIPT = `
local wait = 0
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if n == 1 or ttl < 0 then redis.call('PEXPIRE', key, ARGV[1]); ttl = tonumber(ARGV[1]) end
  if n > tonumber(ARGV[i + 1]) and ttl > wait then wait = ttl end
end
return wait`;

export interface Limit {
  /** Names the counter (e.g. hold-user); part of the Redis key. */
  name: string;
  /** Requests allowed per minute. */
  max: number;
  /** Whose counter: an id, an IP, a digest. Nothing personal: it is stored in Redis. */
  key: (request: FastifyRequest) => string;
}

/**
 * The sign-in limits every login form shares (the API, the learner pages, the admin board),
 * so trying one more door does not reset the count: per IP, and per email address. The
 * email is counted by a digest: nothing personal goes to Redis.
 */
export function loginLimits(config: Config): Limit[] {
  return [
    { name: 'login-ip', max: config.LOGIN_LIMIT_PER_MINUTE_IP, key: (r) => r.ip },
    { name: 'login-user', max: config.LOGIN_LIMIT_PER_MINUTE, key: emailKey },
  ];
}

/** A digest of the request body's email address, lower-cased: a counter's key with nothing personal in it. */
function emailKey(r: FastifyRequest): string {
  return createHash('sha256').update(String((r.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()).digest('base64url').slice(0, 22);
}

/** Sign-ups, per IP and per address (the same whether or not the address has an account). */
export function registerLimits(config: Config): Limit[] {
  return [
    { name: 'register-ip', max: config.REGISTER_LIMIT_PER_MINUTE_IP, key: (r) => r.ip },
    { name: 'register-email', max: config.REGISTER_LIMIT_PER_MINUTE, key: emailKey },
  ];
}

/** Requests that mail an address a link (verification resend, password reset), per IP and per address: one counter for both. */
export function accountEmailLimits(config: Config): Limit[] {
  return [
    { name: 'account-mail-ip', max: config.ACCOUNT_EMAIL_LIMIT_PER_MINUTE_IP, key: (r) => r.ip },
    { name: 'account-mail-email', max: config.ACCOUNT_EMAIL_LIMIT_PER_MINUTE, key: emailKey },
  ];
}

/** Adds app.rateLimit(name, max, key) and app.rateLimit([limits]) (all in one round trip). */
type LimitingRedis = { slotwatchRateLimit(numKeys: number, ...args: (string | number)[]): Promise<number> };

export function registerRateLimit(app: FastifyInstance): void {
  // sent by SHA (EVALSHA, falling back to EVAL once per connection), not as text per request
  const redis = app.deps.redis as typeof app.deps.redis & Partial<LimitingRedis>;
  if (!redis.slotwatchRateLimit) redis.defineCommand('slotwatchRateLimit', { lua: SCRIPT });
  const limiter = redis as typeof redis & LimitingRedis;

  function hook(limits: Limit[]): preHandlerHookHandler {
    return documentHook<preHandlerHookHandler>(async function (request) {
      // one hash tag for every counter, so a multi-key script is legal on Redis Cluster
      const keys = limits.map((l) => `${app.deps.config.QUEUE_PREFIX}:rl:{rl}:${l.name}:${l.key(request)}`);
      let wait: number;
      try {
        wait = Number(await limiter.slotwatchRateLimit(keys.length, ...keys, WINDOW_MS, ...limits.map((l) => l.max)));
      } catch (err) {
        request.log.warn({ err, limits: limits.map((l) => l.name) }, 'rate limit unavailable; letting the request through');
        return;
      }
      if (wait > 0) {
        const seconds = Math.max(1, Math.ceil(wait / 1000));
        throw new HttpError('RATE_LIMITED', `too many requests; try again in ${seconds} s`, { 'retry-after': String(seconds) });
      }
    }, { codes: ['RATE_LIMITED'] });
  }
  app.decorate('rateLimit', (nameOrLimits: string | Limit[], max?: number, key?: (request: FastifyRequest) => string) =>
    hook(typeof nameOrLimits === 'string' ? [{ name: nameOrLimits, max: max!, key: key! }] : nameOrLimits),
  );
}
