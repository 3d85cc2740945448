/**
 * Whether an error means a service we depend on (PostgreSQL, Redis) is away for a moment:
 * a restart, a failover, a network cut. Such a request is answered 503 with Retry-After,
 * as a load balancer or a client would expect of an outage, rather than 500, which says the
 * request met a fault of ours.
 */

// the socket could not be opened, or was cut: the other side is down or unreachable
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// PostgreSQL's own: class 08 (connection exception), an administrator's or a crash's
// shutdown, a server still starting, no connection slots left
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
// what node-postgres and ioredis say, with no code, when a connection ends or never came
const MESSAGES = [
  /^Connection terminated/, // pg: the server closed the connection (a restart) or it timed out connecting
  /^timeout exceeded when trying to connect$/, // pg-pool: connectionTimeoutMillis passed
  /^Client has encountered a connection error and is not queryable$/, // pg: a client whose connection broke
  /^Connection is closed\.$/, // ioredis: a command on a connection that has ended
];
const NAMES = new Set(['MaxRetriesPerRequestError']); // ioredis: gave up on a command while reconnecting

export function dependencyUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 3) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
  if (NAMES.has(err.name) || MESSAGES.some((m) => m.test(err.message))) return true;
  // a connection tried on several addresses (IPv4 and IPv6 of localhost) fails with all of them
  if (err instanceof AggregateError) return err.errors.some((e) => dependencyUnavailable(e, depth + 1));
  return dependencyUnavailable(err.cause, depth + 1);
}
