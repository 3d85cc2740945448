/** withTransaction: commit, rollback, a real serialization failure retried to success, and a connection the server ends mid-transaction. */
import { describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/transaction.js';
import { dependencyUnavailable } from '../../src/http/unavailable.js';
import { useTestContext } from '../helpers/context.js';

const ctx = useTestContext();

describe('withTransaction', () => {
  it('commits what the function did and rolls back when it throws', async () => {
    await ctx.pool.query(`CREATE TABLE tx_basic (v int)`);
    await withTransaction(ctx.pool, (c) => c.query(`INSERT INTO tx_basic VALUES (1)`));
    await expect(
      withTransaction(ctx.pool, async (c) => {
        await c.query(`INSERT INTO tx_basic VALUES (2)`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await ctx.pool.query(`SELECT v FROM tx_basic`);
    expect(rows).toEqual([{ v: 1 }]);
  });

  it('retries a serialization failure (40001) until both writers succeed', async () => {
    await ctx.pool.query(`CREATE TABLE tx_skew (doctor text, on_call boolean)`);
    await ctx.pool.query(`INSERT INTO tx_skew VALUES ('a', true), ('b', true)`);
    // classic write skew: each sees two on call and takes one off; SERIALIZABLE refuses one
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const attempts = { a: 0, b: 0 };
    const goOff = (who: 'a' | 'b') =>
      withTransaction(
        ctx.pool,
        async (c) => {
          attempts[who]++;
          const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM tx_skew WHERE on_call`);
          if (attempts[who] === 1) {
            if (++arrived === 2) release();
            await bothRead;
          }
          if (Number(rows[0]!.n) < 2) return 'stayed';
          await c.query(`UPDATE tx_skew SET on_call = false WHERE doctor = $1`, [who]);
          return 'went off';
        },
        { isolation: 'SERIALIZABLE' },
      );
    const results = await Promise.all([goOff('a'), goOff('b')]);
    expect(results.sort()).toEqual(['stayed', 'went off']);
    // at least one retry; SSI may abort both first tries, and then the retries can collide again
    expect(attempts.a + attempts.b).toBeGreaterThanOrEqual(3);
    const { rows } = await ctx.pool.query(`SELECT count(*)::int AS n FROM tx_skew WHERE on_call`);
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('gives up after maxAttempts and throws the 40001', async () => {
    let calls = 0;
    const err = await withTransaction(
      ctx.pool,
      async () => {
        calls++;
        throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      },
      { maxAttempts: 3, baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toMatchObject({ code: '40001' });
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      withTransaction(ctx.pool, async (c) => {
        calls++;
        await c.query(`SELECT 1/0`);
      }),
    ).rejects.toMatchObject({ code: '22012' });
    expect(calls).toBe(1);
  });

  it('a connection the server ends between two statements fails the next one, and nothing is left uncaught to end the process', async () => {
    const err = await withTransaction(ctx.pool, async (c) => {
      const { rows } = await c.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
      // what every connection gets as PostgreSQL restarts: FATAL 57P01, here while none of ours runs
      await ctx.pool.query(`SELECT pg_terminate_backend($1)`, [rows[0]!.pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await c.query(`SELECT 1`);
    }).catch((e: unknown) => e);
    // answered 503 by the HTTP app, as any request that finds PostgreSQL away
    expect(dependencyUnavailable(err), String(err)).toBe(true);
    const { rows } = await ctx.pool.query(`SELECT 1 AS ok`);
    expect(rows).toEqual([{ ok: 1 }]);
  });
});
