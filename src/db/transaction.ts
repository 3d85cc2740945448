import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { log } from '../log.js';
import { RETRYABLE_SQLSTATES, sqlState } from './types.js';

export type Isolation = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

export interface TransactionOptions {
  isolation?: Isolation;
  /** Total tries for 40001/40P01 before the error is thrown (default 5). */
  maxAttempts?: number;
  /** Backoff base in ms; attempt n waits a random time in [0, base * 2^n) ("full jitter"). */
  baseDelayMs?: number;
}

/**
 * Runs `fn` inside BEGIN/COMMIT on one pooled client at the given isolation level. On a
 * serialization failure or deadlock the whole function is run again after a jittered
 * backoff, so `fn` must be safe to repeat (no side effects outside the transaction).
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const { isolation = 'READ COMMITTED', maxAttempts = 5, baseDelayMs = 10 } = options;
  for (let attempt = 1; ; attempt++) {
    let broken: Error | undefined;
    // A checked-out client has no error listener of the pool's. An error the server sends
    // while no statement is running (57P01 as PostgreSQL restarts, between two of ours)
    // would be an uncaught 'error' event that ends the process; noted here, the next
    // statement fails instead ("not queryable"), and the request is answered 503. The
    // listener goes on in connect's callback, not after an await: a new connection's
    // first bytes can carry the 57P01 right behind its ReadyForQuery, parsed in one go.
    const onError = (err: Error) => {
      broken = err;
    };
    const client = await new Promise<pg.PoolClient>((resolve, reject) =>
      pool.connect((err, c) => {
        if (err || !c) return reject(err ?? new Error('the pool gave no client'));
        c.on('error', onError);
        resolve(c);
      }),
    );
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error; // the connection is unusable: do not return it to the pool
      }
      const code = sqlState(err);
      if (code && RETRYABLE_SQLSTATES.has(code) && attempt < maxAttempts) {
        const delay = Math.random() * baseDelayMs * 2 ** attempt;
        log.debug({ code, attempt, delay: Math.round(delay) }, 'transaction conflict, retrying');
        await sleep(delay);
        continue;
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}
