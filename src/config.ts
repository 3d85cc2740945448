import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseRedisUrl } from './queues/redis-url.js';

/**
 * Every environment variable slotwatch reads, parsed and validated once. Defaults suit a
 * developer's machine (the local services `npm run services` settles on); a deployment
 * sets what differs. Nothing is switched on NODE_ENV.
 */

const url = (name: string, schemes: string[]) =>
  z.string().trim().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    // the value itself is not echoed: URLs carry passwords
    { message: `${name} must be a URL starting with ${schemes.map((s) => s + '://').join(' or ')}` },
  );

const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(min).max(max);

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const schema = z
  .object({
    // the services
    DATABASE_URL: url('DATABASE_URL', ['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/slotwatch'),
    DATABASE_POOL_MAX: int(1, 500).default(10),
    REDIS_URL: z
      .string()
      .trim()
      .default('redis://127.0.0.1:6379')
      .superRefine((v, ctx) => {
        try {
          parseRedisUrl(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,80}$/, 'must be 1-80 letters, digits, or . _ : - (no braces: it becomes a {hash tag})').default('slotwatch'),
    // the processes: HTTP, logs, shutdown
    PORT: int(0, 65535).default(3000),
    PUBLIC_BASE_URL: optional(url('PUBLIC_BASE_URL', ['http', 'https'])),
    BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(512 * 1024),
    TRUST_PROXY_HOPS: int(0, 10).default(0),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SHUTDOWN_TIMEOUT_SECONDS: int(1, 28).default(25),
    // keys the rate-limit counters' names and signs the sign-in device cookies (nothing else,
    // so rotating it only resets those); required by the web process (loadConfig's `require`)
    SECRET_KEY: optional(z.string().trim().regex(/^[A-Za-z0-9_-]{43,}={0,2}$/, 'must be at least 32 random bytes as base64url, 43+ characters (npm run cli -- secret:generate)')),
    // when set, PORT serves GET /metrics behind Authorization: Bearer <METRICS_TOKEN>; when
    // unset, PORT answers it 404
    METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
    // GET /metrics without a token on 127.0.0.1 only; 0 for any free port (logged), off for none.
    // Several web processes on one host each need their own
    METRICS_PORT: z
      .union([z.literal('off'), int(0, 65535)], { error: 'must be a port number (0 for any free port) or off' })
      .default(9464),
    // sessions, and the limits per account and per IP address (a minute's requests)
    SESSION_HOURS: int(1, 24 * 90).default(24),
    LOGIN_LIMIT_PER_MINUTE: int(1, 100_000).default(10), LOGIN_LIMIT_PER_MINUTE_IP: int(1, 1_000_000).default(100),
    HOLD_LIMIT_PER_MINUTE: int(1, 100_000).default(30), HOLD_LIMIT_PER_MINUTE_IP: int(1, 1_000_000).default(1000),
    // sign-ups, and the requests that mail an address (verification resend, password reset)
    REGISTER_LIMIT_PER_MINUTE: int(1, 100_000).default(3), REGISTER_LIMIT_PER_MINUTE_IP: int(1, 1_000_000).default(10),
    ACCOUNT_EMAIL_LIMIT_PER_MINUTE: int(1, 100_000).default(3), ACCOUNT_EMAIL_LIMIT_PER_MINUTE_IP: int(1, 1_000_000).default(20),
    // new password hashes (sign-up, reset, change) at once per process, and how many may wait
    // (each takes 128 MiB and a threadpool thread; sign-ins verify outside this bound)
    PASSWORD_HASH_CONCURRENCY: int(1, 16).default(1), PASSWORD_HASH_QUEUE: int(0, 10_000).default(20),
    // holds and their expiry sweep
    HOLD_MINUTES: int(1, 60).default(5),
    HOLD_SWEEP_SECONDS: int(1, 3600).default(5), HOLD_SWEEP_BATCH: int(1, 10_000).default(500),
    // release matching, the pending-alert sweep, the availability feed
    RELEASE_POLL_SECONDS: int(1, 3600).default(5), RELEASE_BATCH_SIZE: int(1, 10_000).default(200),
    ALERT_SWEEP_SECONDS: int(1, 3600).default(30),
    ALERT_ENQUEUE_GRACE_SECONDS: int(0, 86_400).default(60), ALERT_REQUEUE_SECONDS: int(60, 7 * 86_400).default(900),
    FEED_URL: optional(url('FEED_URL', ['http', 'https'])),
    FEED_POLL_SECONDS: int(5, 86_400).default(60),
    FEED_SOURCE: z.string().regex(/^[a-z0-9_-]{1,40}$/, 'must be 1-40 lowercase letters, digits, _ or -').default('feed'),
    // delivery: email
    SMTP_URL: optional(url('SMTP_URL', ['smtp', 'smtps'])),
    MAIL_FROM: z.string().trim().min(3).default('slotwatch <alerts@slotwatch.localhost>'),
    OUTBOX_DIR: z.string().trim().min(1).default('outbox'),
    // delivery: web push
    VAPID_PUBLIC_KEY: optional(z.string().regex(/^[A-Za-z0-9_-]{80,100}$/, 'must be a base64url P-256 public key (npm run cli -- vapid:generate)')),
    VAPID_PRIVATE_KEY: optional(z.string().regex(/^[A-Za-z0-9_-]{40,50}$/, 'must be a base64url P-256 private key (npm run cli -- vapid:generate)')),
    VAPID_SUBJECT: z.string().trim().regex(/^(mailto:|https:\/\/)/, 'must start with mailto: or https://').default('mailto:alerts@slotwatch.localhost'),
    DELIVERY_PUSH_TTL_SECONDS: int(0, 86_400).default(900),
    // for local test receivers only: lets push endpoints be http, on any port, at loopback
    // and private addresses (real push services are https on 443 at public addresses)
    PUSH_ALLOW_LOCAL_ENDPOINTS: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true'),
    // when set, the only push service hosts endpoints may name: `*.googleapis.com,updates.push.services.mozilla.com`
    PUSH_ENDPOINT_HOSTS: optional(
      z.string().transform((v) => v.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean)).pipe(
        z.array(z.string().regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be host names or *.domain patterns, separated by commas')).min(1, 'must name at least one host'),
      ),
    ),
    PUSH_SUBSCRIBE_LIMIT_PER_MINUTE: int(1, 100_000).default(10), PUSH_SUBSCRIBE_LIMIT_PER_MINUTE_IP: int(1, 1_000_000).default(100),
    // delivery: rates per channel, concurrency, retries, claims
    DELIVERY_EMAIL_PER_SECOND: int(1, 100_000).default(200), DELIVERY_PUSH_PER_SECOND: int(1, 100_000).default(1000),
    DELIVERY_CONCURRENCY: int(1, 1000).default(50),
    // queues per channel, each its own hash tag: on a Redis Cluster the busiest channel spreads over shards
    DELIVERY_SHARDS: int(1, 64).default(1),
    DELIVERY_MAX_ATTEMPTS: int(1, 100).default(10), DELIVERY_BACKOFF_MS: int(1, 3_600_000).default(2000),
    // at least the longest a send may take (SMTP socket 30 s, push request 20 s), or a slow send could be retaken
    DELIVERY_LEASE_SECONDS: int(60, 3600).default(60),
  })
  .superRefine((c, ctx) => {
    if (c.PUSH_ALLOW_LOCAL_ENDPOINTS && c.PUBLIC_BASE_URL && new URL(c.PUBLIC_BASE_URL).protocol === 'https:') {
      ctx.addIssue({ code: 'custom', path: ['PUSH_ALLOW_LOCAL_ENDPOINTS'], message: 'must not be true when PUBLIC_BASE_URL is https: it lets users point pushes at local and private addresses (for local test receivers only)' });
    }
    if (Boolean(c.VAPID_PUBLIC_KEY) !== Boolean(c.VAPID_PRIVATE_KEY)) {
      const missing = c.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'must be set together with the other VAPID key' });
    }
  });

export type Config = z.infer<typeof schema> & { PUBLIC_BASE_URL: string };

/** A configuration error: `message` is the one line to show, naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
  }
}

/** A new SECRET_KEY: 32 random bytes, base64url (secret:generate; the demo's, tests' and benchmarks' throwaway keys). */
export function newSecretKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Variables optional in the schema that a process may require (the ones it uses). */
export type RequirableVariable = 'SECRET_KEY';

const HOW_TO_SET: Record<RequirableVariable, string> = {
  SECRET_KEY: 'generate one with `npm run cli -- secret:generate`',
};

export interface LoadOptions {
  /** Variables this process cannot run without, though others can (the web process needs SECRET_KEY; the worker and CLI do not). */
  require?: RequirableVariable[];
}

/** Parses `env` (process.env by default); throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, o: LoadOptions = {}): Config {
  // turning the old switch on must not be silently ignored: say what it is called now
  if (env.PUSH_ALLOW_HTTP_ENDPOINTS?.trim() === 'true') {
    throw new ConfigError('slotwatch: bad configuration: PUSH_ALLOW_HTTP_ENDPOINTS is now PUSH_ALLOW_LOCAL_ENDPOINTS (for local test receivers only)', 'PUSH_ALLOW_HTTP_ENDPOINTS');
  }
  const result = schema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const message = issue.message.startsWith(variable) ? issue.message : `${variable} ${issue.message}`;
    throw new ConfigError(`slotwatch: bad configuration: ${message}`, variable);
  }
  const c = result.data;
  for (const variable of o.require ?? []) {
    if (!c[variable]) throw new ConfigError(`slotwatch: bad configuration: ${variable} is not set; ${HOW_TO_SET[variable]}`, variable);
  }
  return { ...c, PUBLIC_BASE_URL: (c.PUBLIC_BASE_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, '') };
}

/** For entry points: the config, or one line on stderr and exit code 1. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env, o: LoadOptions = {}): Config {
  try {
    return loadConfig(env, o);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(1);
    }
    throw err;
  }
}
