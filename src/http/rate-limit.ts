/**
 * Fixed one-minute windows counted in Redis, shared by every web process. A few lines of
 * our own rather than @fastify/rate-limit: a route needs two limits (per user and per IP)
 * checked in one round trip with keys we name, and what a Redis outage does differs by
 * route, which a counter we own makes plain. Bookings are let through (a hold is no
 * danger to anyone); anything that checks a password or mails an address is refused
 * with 503 (`failClosed`), since with no counter there would be no bound on guesses or mail.
 *
 * Keys name an IP by its client key (client-key.ts: an IPv6 client is its /64) and an email
 * address by an HMAC under SECRET_KEY (secret-key.ts), so nothing personal goes to Redis.
 */
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { Config } from '../config.js';
import { clientKey } from './client-key.js';
import { HttpError } from './errors.js';
import { documentHook } from './hook-docs.js';
import { emailDigest } from './secret-key.js';

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

/** A counter's Redis key: one hash tag for every counter, so a multi-key script is legal on Redis Cluster. */
export function limitKey(config: Pick<Config, 'QUEUE_PREFIX'>, ...parts: string[]): string {
  return [`${config.QUEUE_PREFIX}:rl:{rl}`, ...parts].join(':');
}

/** The 429 for a caller whose longest exceeded window ends in `waitMs`. */
export function rateLimited(waitMs: number, what = 'requests'): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpError('RATE_LIMITED', `too many ${what}; try again in ${seconds} s`, { 'retry-after': String(seconds) });
}

/** How long a refused caller is told to wait when the counters are unreachable. */
export const UNAVAILABLE_RETRY_SECONDS = 5;

/** The 503 of a limit that fails closed: the counters are unreachable, so nothing was done. */
export function limitsUnavailable(what: string): HttpError {
  return new HttpError('SERVICE_UNAVAILABLE', `${what} is unavailable for a moment (its limits cannot be checked); nothing was done; try again in ${UNAVAILABLE_RETRY_SECONDS} s`, {
    'retry-after': String(UNAVAILABLE_RETRY_SECONDS),
  });
}

/** The key of the request's client: its IP, an IPv6 client's /64. */
export function byClient(request: FastifyRequest): string {
  return clientKey(request.ip);
}

export interface LimitOptions {
  /** When Redis cannot be reached: 503 SERVICE_UNAVAILABLE naming `failClosed` (what is unavailable), instead of letting the request through. */
  failClosed?: string;
}

export interface Limit {
  /** Names the counter (e.g. hold-user); part of the Redis key. */
  name: string;
  /** Requests allowed per minute. */
  max: number;
  /** Whose counter: an id, an IP, a digest. Nothing personal: it is stored in Redis. */
  key: (request: FastifyRequest) => string;
}

/** The request body's email address as a counter key: an HMAC under SECRET_KEY, nothing personal. */
export function byEmail(config: Config): (r: FastifyRequest) => string {
  return (r) => emailDigest(config, String((r.body as { email?: unknown } | undefined)?.email ?? ''));
}

/** Sign-ups, per IP and per address (the same whether or not the address has an account). */
export function registerLimits(config: Config): Limit[] {
  return [
    { name: 'register-ip', max: config.REGISTER_LIMIT_PER_MINUTE_IP, key: byClient },
    { name: 'register-email', max: config.REGISTER_LIMIT_PER_MINUTE, key: byEmail(config) },
  ];
}

/**
 * Requests that mail an address a link (verification resend, password reset), per IP and
 * per address: one counter for both. They fail closed: the mail goes out directly (not
 * through Redis), so with the counters down nothing else would bound what one client can
 * send to an address it names, and a link asked for again in a few seconds costs nobody.
 */
export function accountEmailLimits(config: Config): Limit[] {
  return [
    { name: 'account-mail-ip', max: config.ACCOUNT_EMAIL_LIMIT_PER_MINUTE_IP, key: byClient },
    { name: 'account-mail-email', max: config.ACCOUNT_EMAIL_LIMIT_PER_MINUTE, key: byEmail(config) },
  ];
}

type LimitingRedis = { slotwatchRateLimit(numKeys: number, ...args: (string | number)[]): Promise<number> };

/** Adds app.rateLimit(name, max, key) and app.rateLimit([limits], options) (all in one round trip). */
export function registerRateLimit(app: FastifyInstance): void {
  // sent by SHA (EVALSHA, falling back to EVAL once per connection), not as text per request
  const redis = app.deps.redis as typeof app.deps.redis & Partial<LimitingRedis>;
  if (!redis.slotwatchRateLimit) redis.defineCommand('slotwatchRateLimit', { lua: SCRIPT });
  const limiter = redis as typeof redis & LimitingRedis;

  function hook(limits: Limit[], o: LimitOptions): preHandlerHookHandler {
    return documentHook<preHandlerHookHandler>(async function (request) {
      const keys = limits.map((l) => limitKey(app.deps.config, l.name, l.key(request)));
      let wait: number;
      try {
        wait = Number(await limiter.slotwatchRateLimit(keys.length, ...keys, WINDOW_MS, ...limits.map((l) => l.max)));
      } catch (err) {
        if (o.failClosed) {
          request.log.warn({ err, limits: limits.map((l) => l.name) }, 'rate limit unavailable; refusing the request');
          throw limitsUnavailable(o.failClosed);
        }
        request.log.warn({ err, limits: limits.map((l) => l.name) }, 'rate limit unavailable; letting the request through');
        return;
      }
      if (wait > 0) throw rateLimited(wait);
    }, { codes: o.failClosed ? ['RATE_LIMITED', 'SERVICE_UNAVAILABLE'] : ['RATE_LIMITED'] });
  }
  app.decorate('rateLimit', (nameOrLimits: string | Limit[], maxOrOptions?: number | LimitOptions, key?: (request: FastifyRequest) => string) =>
    typeof nameOrLimits === 'string' ? hook([{ name: nameOrLimits, max: maxOrOptions as number, key: key! }], {}) : hook(nameOrLimits, (maxOrOptions as LimitOptions | undefined) ?? {}),
  );
}
