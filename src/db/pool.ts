import pg from 'pg';
import { log } from '../log.js';

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /**
   * When false, a query config's `name` is dropped, so the statement is parsed as an unnamed
   * one each time. A named statement lives on one server connection, and a transaction-mode
   * pooler gives the next transaction another one: "prepared statement does not exist", or
   * "already exists" on the connection that has it from someone else. Default true.
   */
  namedStatements?: boolean;
  /** How long to wait for a new connection; 10 s unless said. */
  connectTimeoutMs?: number;
}

// admin_shutdown, crash_shutdown, cannot_connect_now
const SERVER_SHUTDOWN = /^57P0[123]$/;

/** A PostgreSQL pool whose idle-client errors are logged instead of crashing the process. */
export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'slotwatch',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
  });
  // an idle client losing its connection (server restart, failover) emits here; without
  // a listener node would exit. The pool discards the client and makes a new one on demand.
  // A shutdown of the server (a restart, a failover, a replica taken away) is routine
  // operations, not a fault: a warning, so an error line still means something is wrong.
  pool.on('error', (err) => {
    if (SERVER_SHUTDOWN.test(String((err as { code?: unknown }).code))) log.warn({ err }, 'idle PostgreSQL connection closed by the server; the pool opens another when needed');
    else log.error({ err }, 'idle PostgreSQL client failed');
  });
  // pg has no switch for this; every query (pool.query and a checked-out client's) goes
  // through the client's own query method, so that is where the name is taken off
  if (options.namedStatements === false) pool.on('connect', unnameStatements);
  return pool;
}

function unnameStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((first: unknown, ...rest: unknown[]) => {
    if (typeof first === 'object' && first !== null && typeof (first as { name?: unknown }).name === 'string' && typeof (first as { text?: unknown }).text === 'string') {
      const { name: _name, ...unnamed } = first as pg.QueryConfig;
      return query(unnamed, ...rest);
    }
    return query(first, ...rest);
  }) as typeof client.query;
}
