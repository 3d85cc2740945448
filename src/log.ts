import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino replaces with "[redacted]". Emails, secrets and push keys never reach a log;
 * ids do. Wildcards cover the shapes we log: a bare field, one level down (`user.email`)
 * and request headers.
 */
export const redactPaths: string[] = [
  'email', '*.email', '*.*.email',
  'to', '*.to',
  'password', '*.password', 'passwordHash', '*.passwordHash', 'password_hash', '*.password_hash',
  'token', '*.token', '*.*.token', 'accessToken', '*.accessToken',
  'authorization', '*.authorization', '*.headers.authorization', '*.headers.cookie', '*.headers["set-cookie"]',
  'cookie', '*.cookie',
  'keys', '*.keys', '*.*.keys', 'p256dh', '*.p256dh', 'auth', '*.auth',
  'endpoint', '*.endpoint', '*.*.endpoint',
  'VAPID_PRIVATE_KEY', '*.VAPID_PRIVATE_KEY', 'privateKey', '*.privateKey',
  'SMTP_URL', '*.SMTP_URL', 'DATABASE_URL', '*.DATABASE_URL',
  'DATABASE_DIRECT_URL', '*.DATABASE_DIRECT_URL', 'DATABASE_READ_URL', '*.DATABASE_READ_URL', 'REDIS_URL', '*.REDIS_URL',
];

/**
 * Anything shaped like an email address in free text; the log scan of the tests looks for
 * the same shape. Matched only from the start of a word, so a long run of letters without
 * an @ stays linear rather than being rescanned from every position.
 */
export const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Replaces anything shaped like an email address in free text (messages, error details). */
export function scrubEmails(text: string): string {
  return text.replace(EMAIL, '[email]');
}

// a URL's scheme, any user:password@, and its host; what follows the host is dropped
const URL_IN_TEXT = /\b(https?|wss?):\/\/(?:[^\s/?#@<>"']*@)?([^\s/?#<>"']+)[^\s<>"']*/gi;
// broader than EMAIL: a receiver's reply may name `bob@localhost` or `<bob@[10.0.0.1]>`;
// matched only from the start of a word, so a long run of text without an @ stays linear
const ANY_ADDRESS = /(?<![^\s<>()[\]"',;:/])[^\s<>()[\]"',;:/]+@[^\s<>()"',;]+/g;

/**
 * Free text that is stored or shown outside the row it is about (a failed job's reason in
 * Redis and on the queue board, a delivery's last error): email addresses go, and URLs
 * keep only their scheme and host, since a push endpoint or an unsubscribe link is a
 * capability that works for whoever holds it.
 */
export function scrubReason(text: string): string {
  return text.replace(URL_IN_TEXT, '$1://$2/[…]').replace(ANY_ADDRESS, '[email]');
}

/**
 * Scrubs an error's message and stack in place (see scrubReason) and returns it: for a
 * job processor to rethrow, since BullMQ keeps both in Redis (the failed reason, the stack
 * trace, the events stream) where the queue board shows them. The same object, so BullMQ
 * still recognises DelayedError and UnrecoverableError.
 */
export function scrubError<T>(err: T): T {
  if (err instanceof Error) {
    err.message = scrubReason(err.message);
    if (err.stack) err.stack = scrubReason(err.stack);
  }
  return err;
}

// properties libraries hang on their errors that are whole objects, not facts about the
// error: pg-pool attaches the failed client (its connection settings, parsed statements
// and buffers, kilobytes per line) to an idle client's error
const ERROR_OBJECT_PROPERTIES = ['client'] as const;

function errSerializer(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  for (const k of ERROR_OBJECT_PROPERTIES) delete out[k];
  for (const k of ['message', 'stack', 'detail'] as const) {
    if (typeof out[k] === 'string') out[k] = scrubReason(out[k] as string);
  }
  return out;
}

// a path segment that is itself a capability: the unsubscribe link works for whoever holds it
const CAPABILITY_PATH = /(\/unsubscribe\/)[^/?#\s"'<>]+/g;
const TOKEN_IN_QUERY = /([?&][^=&#\s]*token[^=&#\s]*=)[^&#\s"'<>]*/gi;

/** Replaces a capability in a path, or a token in a query string, wherever it stands in `text`. */
function scrubCapabilities(text: string): string {
  return text.replace(CAPABILITY_PATH, '$1[redacted]').replace(TOKEN_IN_QUERY, '$1[redacted]');
}

/** The request fields fastify logs by default, as fastify's own serializer gives them, with the URL scrubbed. */
function reqSerializer(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }): Record<string, unknown> {
  return { method: req.method, url: req.url === undefined ? undefined : scrubCapabilities(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** Builds a logger with slotwatch's redaction; pretty output only when stdout is a terminal. */
export function createLogger(options: LoggerOptions = {}, destination?: pino.DestinationStream): Logger {
  const base: LoggerOptions = {
    level: 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    // fastify logs each request with its URL, and takes a logger's own `req` serializer over its default
    serializers: { err: errSerializer, error: errSerializer, req: reqSerializer },
    hooks: {
      // message strings can carry an address or a link interpolated by accident (fastify's
      // own "Route GET:<url> not found"); scrub them too
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubCapabilities(scrubEmails(a)) : a)) as Parameters<typeof method>);
      },
    },
    ...options,
  };
  if (!destination && process.stdout.isTTY && !process.env.CI) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true } } });
  }
  // written synchronously: a process that ends on a fatal error or a signal must not lose
  // its last lines, or write them out of order as an asynchronous stream can at exit
  return pino(base, destination ?? pino.destination({ dest: 1, sync: true }));
}

/** The one root logger; entry points set its level from config, everything else makes children. */
export const log: Logger = createLogger();
