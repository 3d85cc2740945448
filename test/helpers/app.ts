/**
 * The HTTP app on a test file's own database and Redis prefix: `useTestApp()` builds it
 * once per file (closing it after) and makes signed-in users of any role.
 *
 *   const t = useTestApp();
 *   const { token } = await t.signedIn('OPERATOR');
 *   const res = await t.app.inject({ method: 'GET', url: '/api/me', headers: t.auth(token) });
 */
import { basename, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Role } from '../../src/accounts/roles.js';
import { createSession } from '../../src/accounts/sessions.js';
import { loadConfig, newSecretKey, type Config } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { Deps } from '../../src/process/deps.js';
import { createLogger } from '../../src/log.js';
import { projectRoot } from '../../src/paths.js';
import { closeQueues, createQueues, type Queues } from '../../src/queues/queues.js';
import { createRedis, type RedisConnection } from '../../src/queues/redis.js';
import { SettingsCache } from '../../src/settings/settings.js';
import { useTestContext, type TestContext } from './context.js';
import { insertUser } from './factories.js';

/**
 * A resolver for push endpoint hosts that answers a public address for every name: the
 * test machine has no DNS, and the routes refuse a host that does not resolve.
 */
export const resolveAsPublic: NonNullable<Deps['lookupHost']> = async () => [{ address: '93.184.215.14', family: 4 }];

/** The `sw_session=<token>` pair a learner-pages sign-in set, to send back as a Cookie header (the answer sets the device cookie too). */
export function sessionCookieOf(res: { cookies: { name: string; value: string }[] }): string {
  const cookie = res.cookies.find((c) => c.name === 'sw_session');
  if (!cookie) throw new Error('the answer set no sw_session cookie');
  return `sw_session=${cookie.value}`;
}

/** test-results/logs/<test file>.log: where a test app logs. */
function logFile(): string {
  return join(projectRoot, 'test-results', 'logs', `${basename(expect.getState().testPath ?? 'tests')}.log`);
}

export interface TestApp {
  ctx: TestContext;
  app: FastifyInstance;
  config: Config;
  queues: Queues;
  /** A new active user of `role` with a live session (no password hashing: fast). */
  signedIn(role?: Role, o?: { priority?: string }): Promise<{ id: string; email: string; token: string }>;
  /** The Authorization header for a token. */
  auth(token: string): { authorization: string };
}

type ExtraDeps = Partial<Pick<Deps, 'lookupHost' | 'pool'>>;

/**
 * `overrides` changes config for this file (e.g. rate limits). QUEUE_PREFIX is always the
 * file's own Redis prefix, so queues and rate-limit counters are never shared. `extra`
 * replaces dependencies (a resolver for push endpoint hosts: the test machine has no DNS;
 * a pool of the test's own), or makes them once the file's database exists.
 */
export function useTestApp(overrides: Partial<Config> = {}, extra: ExtraDeps | ((ctx: TestContext) => ExtraDeps) = {}): TestApp {
  const ctx = useTestContext();
  const t = { ctx } as TestApp;
  let redis: RedisConnection | undefined;

  beforeAll(async () => {
    t.config = {
      // account emails without an SMTP_URL go to files under test-results, not the project's outbox/
      ...loadConfig({
        DATABASE_URL: ctx.databaseUrl,
        REDIS_URL: ctx.redisUrl,
        LOG_LEVEL: 'warn',
        OUTBOX_DIR: join(projectRoot, 'test-results', 'outbox'),
        SECRET_KEY: newSecretKey(),
      }),
      // test prefixes carry ':' that the variable's check refuses; tests pass it directly
      QUEUE_PREFIX: ctx.redisPrefix,
      ...overrides,
    };
    // a REDIS_URL override is a Redis of the test's own (one it may stop)
    redis = createRedis(overrides.REDIS_URL ?? ctx.redisUrl, 'producer');
    // a producer connection refuses commands until ready, and disconnecting it mid-handshake
    // rejects ioredis's own ready check unhandled: start from a ready one
    if (redis.status !== 'ready') await new Promise((resolve) => redis!.once('ready', resolve));
    t.queues = createQueues(redis, t.config.QUEUE_PREFIX, t.config.DELIVERY_SHARDS);
    // the app's own log lines go to a file per test file, read when a test fails
    const log = createLogger({ level: t.config.LOG_LEVEL }, pino.destination({ dest: logFile(), mkdir: true, sync: true }));
    const deps = typeof extra === 'function' ? extra(ctx) : extra;
    t.app = await buildApp({ config: t.config, pool: ctx.pool, redis, queues: t.queues, log, settings: new SettingsCache(ctx.pool, t.config), ...deps });
    await t.app.ready();
  });

  afterAll(async () => {
    await t.app?.close();
    if (t.queues) await closeQueues(t.queues);
    redis?.disconnect();
  });

  t.signedIn = async (role = 'CLIENT', o = {}) => {
    const user = await insertUser(ctx.pool, { role, ...(o.priority ? { priority: o.priority } : {}) });
    const { token } = await createSession(ctx.pool, user.id, 1);
    return { id: user.id, email: user.email, token };
  };
  t.auth = (token) => ({ authorization: `Bearer ${token}` });
  return t;
}
