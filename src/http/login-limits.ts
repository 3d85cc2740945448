/**
 * The sign-in limits every form shares (the API, the learner pages, the queue board), so
 * trying another door does not reset a count. They are built so that a stranger cannot
 * lock an owner out:
 *
 * - per client (its IP, an IPv6 client's /64): every attempt, at most
 *   LOGIN_LIMIT_PER_MINUTE_IP a minute, then 429. This bounds what one client can try
 *   across addresses.
 * - per (address, client): failures only, at most LOGIN_LIMIT_PER_MINUTE a minute, then
 *   429 for that client and that address. A guesser is stopped; the owner on another
 *   client is not.
 * - per address, across clients: failures only, and no refusal. Past
 *   LOGIN_LIMIT_PER_MINUTE failures in the window, each further attempt for the address
 *   waits before it is answered, 250 ms doubling with each failure, at most 5 s. Many
 *   clients guessing one password are slowed, and the owner still gets in, a few
 *   seconds late at worst.
 * - a browser that has signed in to the address before carries a device cookie for it
 *   (device-cookie.ts): its attempts are counted per device only (attempts and
 *   failures, with the same two maxima), so the owner's own browser is neither slowed
 *   nor refused by anyone else's failures, even behind the attacker's NAT.
 *
 * An unknown address is counted exactly like a known one. A failure is counted when the
 * attempt is let through and taken back when the password proves right, so that many
 * guesses sent at once are counted as failures before any of them is answered. When
 * Redis cannot be reached, sign-in is refused with 503 (fail closed): with no counter,
 * guessing would be free.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { deviceFor, setDeviceCookie } from './device-cookie.js';
import { documentHook } from './hook-docs.js';
import { byClient, limitKey, limitsUnavailable, rateLimited } from './rate-limit.js';
import { emailDigest } from './secret-key.js';

const WINDOW_MS = 60_000;
const DELAY_BASE_MS = 250;
const DELAY_MAX_MS = 5_000;

// KEYS[1] attempts (per client or per device), KEYS[2] failures that refuse (per address
// and client, or per device), KEYS[3] failures per address (only without a device).
// Counts the attempt and, when it is let through, a failure in KEYS[2..] until it proves
// right; returns {ms to wait before trying again (0: go on), failures per address before it}.
const CHECK = `
local function count(key)
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if n == 1 or ttl < 0 then redis.call('PEXPIRE', key, ARGV[1]); ttl = tonumber(ARGV[1]) end
  return n, ttl
end
local n, ttl = count(KEYS[1])
if n > tonumber(ARGV[2]) then return {ttl, 0} end
local failed = tonumber(redis.call('GET', KEYS[2]) or '0')
if failed >= tonumber(ARGV[3]) then
  local left = redis.call('PTTL', KEYS[2])
  if left > 0 then return {left, 0} end
end
local perAddress = 0
if #KEYS > 2 then perAddress = tonumber(redis.call('GET', KEYS[3]) or '0') end
for i = 2, #KEYS do count(KEYS[i]) end
return {0, perAddress}`;

// takes back the failures an attempt was counted as (it was not one); a counter whose
// window has ended meanwhile is left alone, never created anew
const TAKE_BACK = `
for _, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n > 0 then redis.call('DECR', key) end
end
return 0`;

type LoginRedis = {
  slotwatchLoginCheck(numKeys: number, ...args: (string | number)[]): Promise<[number, number]>;
  slotwatchLoginTakeBack(numKeys: number, ...args: string[]): Promise<number>;
};

interface Attempt {
  digest: string;
  /** The device id of a valid device cookie for this address, when the request carries one. */
  device: string | undefined;
  /** The failure counters this attempt was counted in, until it proves right. */
  failureKeys: string[];
}

const attempts = new WeakMap<FastifyRequest, Attempt>();

/** How long an attempt for an address waits once `failures` have been counted for it. */
export function signInDelayMs(failures: number, threshold: number): number {
  return failures < threshold ? 0 : Math.min(DELAY_MAX_MS, DELAY_BASE_MS * 2 ** Math.min(failures - threshold, 20));
}

function loginRedis(app: FastifyInstance): LoginRedis {
  const redis = app.deps.redis as typeof app.deps.redis & Partial<LoginRedis>;
  // sent by SHA (EVALSHA, falling back to EVAL once per connection), not as text per request
  if (!redis.slotwatchLoginCheck) redis.defineCommand('slotwatchLoginCheck', { lua: CHECK });
  if (!redis.slotwatchLoginTakeBack) redis.defineCommand('slotwatchLoginTakeBack', { lua: TAKE_BACK });
  return redis as typeof redis & LoginRedis;
}

/** The preHandler every sign-in route puts first: counts the attempt, refuses (429) or delays it. */
export function loginRateLimit(app: FastifyInstance): preHandlerHookHandler {
  const { config } = app.deps;
  const redis = loginRedis(app);
  const key = (...parts: string[]) => limitKey(config, ...parts);
  const hook: preHandlerHookHandler = async function (request) {
    const email = String((request.body as { email?: unknown } | undefined)?.email ?? '');
    const digest = emailDigest(config, email);
    const device = deviceFor(request, config, digest);
    const client = byClient(request);
    const counted = device
      ? { keys: [key('login-device', device), key('login-fail-device', device)], failureKeys: [key('login-fail-device', device)] }
      : {
          keys: [key('login-ip', client), key('login-fail', digest, client), key('login-fail-email', digest)],
          failureKeys: [key('login-fail', digest, client), key('login-fail-email', digest)],
        };
    let wait: number;
    let failures: number;
    try {
      [wait, failures] = (await redis.slotwatchLoginCheck(counted.keys.length, ...counted.keys, WINDOW_MS, config.LOGIN_LIMIT_PER_MINUTE_IP, config.LOGIN_LIMIT_PER_MINUTE)).map(Number) as [
        number,
        number,
      ];
    } catch (err) {
      request.log.warn({ err }, 'sign-in limits unavailable; refusing the sign-in');
      throw limitsUnavailable('signing in');
    }
    if (wait > 0) throw rateLimited(wait, 'sign-in attempts');
    attempts.set(request, { digest, device, failureKeys: counted.failureKeys });
    const delay = signInDelayMs(failures, config.LOGIN_LIMIT_PER_MINUTE);
    if (delay > 0) await sleep(delay);
  };
  return documentHook(hook, { codes: ['RATE_LIMITED', 'SERVICE_UNAVAILABLE'] });
}

function attemptOf(request: FastifyRequest): Attempt {
  const attempt = attempts.get(request);
  if (!attempt) throw new Error('a sign-in route must put loginRateLimit(app) in its preHandler');
  return attempt;
}

/**
 * When the attempt turned out not to be a failure (the password was right, or the check
 * itself failed on our side): takes back the failures it was counted as. Best effort: if
 * Redis has gone meanwhile, the attempt stays counted, which only errs on the safe side.
 */
export async function notAFailure(request: FastifyRequest): Promise<void> {
  const { failureKeys } = attemptOf(request);
  try {
    await loginRedis(request.server).slotwatchLoginTakeBack(failureKeys.length, ...failureKeys);
  } catch (err) {
    request.log.warn({ err }, 'sign-in limits unavailable; a successful sign-in stays counted as a failure');
  }
}

/** After a successful sign-in: the browser's device cookie for the address (kept, or a new one). */
export function rememberDevice(request: FastifyRequest, reply: FastifyReply): void {
  const { digest, device } = attemptOf(request);
  setDeviceCookie(reply, request.server.deps.config, digest, device);
}
