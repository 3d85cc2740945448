/**
 * Reads that may be a little old (slot search, coverage counts, the metrics scrape) on a
 * streaming replica, falling back to the primary while the replica cannot answer. A replica
 * is there to take load off the primary, not to be one more thing the site needs: when it is
 * down, restarting, out of connections or cancels a read for a conflict with recovery, the
 * read runs on the primary instead, with a warning in the log (once per outage) and a count
 * in `slotwatch_read_replica_fallbacks_total`. After a failure the replica is left alone for
 * RETRY_AFTER_MS, so an outage does not cost every read a failed connection attempt first.
 */
import type pg from 'pg';
import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from './types.js';

/** How long reads go straight to the primary after the replica failed one. */
export const RETRY_AFTER_MS = 5_000;

// the replica failed us rather than the statement: class 08 (connection exception), an
// administrator's or a crash's shutdown, a server still starting, no connection slots left,
// and 40001, which on a hot standby is "canceling statement due to conflict with recovery"
const REPLICA_SQLSTATES = /^(08[0-9A-Z]{3}|57P0[123]|53300|40001)$/;

/**
 * Whether a failed read should be run again on the primary: PostgreSQL answered with one of
 * the states above, or never answered at all (no SQLSTATE: the socket was refused or cut, or
 * the pool timed out connecting). A statement error (bad SQL, a cast) fails the same anywhere.
 */
export function replicaFailed(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  return sqlState === undefined || REPLICA_SQLSTATES.test(sqlState);
}

export class ReplicaReads implements Queryable {
  /** Reads that went to the primary because the replica could not answer them. */
  fallbacks = 0;
  private downUntil = 0;

  constructor(
    readonly replica: pg.Pool,
    readonly primary: Queryable,
    private readonly log: Pick<Logger, 'warn' | 'info'>,
  ) {}

  async query<R extends QueryResultRow = QueryResultRow>(statement: string | QueryConfig<unknown[]>, values?: unknown[]): Promise<QueryResult<R>> {
    const run = (db: Queryable) => (typeof statement === 'string' ? db.query<R>(statement, values) : db.query<R>(statement));
    if (Date.now() < this.downUntil) return this.onPrimary(run);
    try {
      const result = await run(this.replica);
      if (this.downUntil !== 0) {
        this.downUntil = 0;
        this.log.info('read replica answering again; slightly old reads go to it');
      }
      return result;
    } catch (err) {
      if (!replicaFailed(err)) throw err;
      if (this.downUntil === 0) this.log.warn({ err }, 'read replica not answering; reading from the primary');
      this.downUntil = Date.now() + RETRY_AFTER_MS;
      return this.onPrimary(run);
    }
  }

  private onPrimary<T>(run: (db: Queryable) => Promise<T>): Promise<T> {
    this.fallbacks += 1;
    return run(this.primary);
  }

  end(): Promise<void> {
    return this.replica.end();
  }
}
