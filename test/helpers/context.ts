/**
 * Per-test-file isolation: `useTestContext()` gives the file its own database, cloned from
 * the run's migrated template, and its own Redis key prefix. Both are removed after the
 * file; a connection still open to the database at that point (a pool someone forgot to
 * end) fails the file.
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { withDatabase } from './services.js';

export interface TestContext {
  /** This file's own database. */
  databaseUrl: string;
  /** A pool on it, ended after the file. */
  pool: pg.Pool;
  redisUrl: string;
  /** Prefix for every Redis key this file creates; as QUEUE_PREFIX, BullMQ keys become {prefix}:... and are cleaned up too. */
  redisPrefix: string;
  /** A Redis client for the file, disconnected after it. */
  redis: Redis;
  adminUrl: string;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function useTestContext(): TestContext {
  const ctx = {} as TestContext;
  let database = '';

  beforeAll(async () => {
    const runId = inject('runId');
    const file = basename(expect.getState().testPath ?? 'file').replace(/\W+/g, '_').slice(0, 20).toLowerCase();
    const suffix = randomBytes(3).toString('hex');
    database = `sw_t_${runId}_${file}_${suffix}`;
    await admin((c) => c.query(`CREATE DATABASE "${database}" TEMPLATE "${inject('templateDatabase')}"`));
    ctx.adminUrl = inject('adminUrl');
    ctx.databaseUrl = withDatabase(ctx.adminUrl, database);
    ctx.pool = createPool(ctx.databaseUrl, { max: 20, applicationName: 'slotwatch-test' });
    ctx.redisUrl = inject('redisUrl');
    ctx.redisPrefix = `swt:${runId}:${file}_${suffix}`;
    ctx.redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    if (!database) return;
    await ctx.pool?.end();
    if (ctx.redis) {
      let cursor = '0';
      do {
        const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', `*${ctx.redisPrefix}*`, 'COUNT', 1000);
        if (keys.length) await ctx.redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      ctx.redis.disconnect();
    }
    const leaked = await admin(async (c) => {
      // pool.end() resolves once it has asked its idle clients to close, not once their
      // backends have gone: give them up to two seconds before counting what is left
      for (let waited = 0; ; waited += 50) {
        const { rows } = await c.query<{ n: string; apps: string | null }>(
          `SELECT count(*) AS n, string_agg(DISTINCT application_name, ', ') AS apps
             FROM pg_stat_activity WHERE datname = $1`,
          [database],
        );
        if (Number(rows[0]!.n) === 0 || waited >= 2000) {
          await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
          return rows[0]!;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    expect(Number(leaked.n), `connections left open to the test database by: ${leaked.apps}`).toBe(0);
  });

  return ctx;
}
