import pg from 'pg';
import { log } from '../log.js';

/** A PostgreSQL pool whose idle-client errors are logged instead of crashing the process. */
export function createPool(connectionString: string, options: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'slotwatch',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // an idle client losing its connection (server restart, failover) emits here; without
  // a listener node would exit. The pool discards the client and makes a new one on demand.
  pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL client failed'));
  return pool;
}
