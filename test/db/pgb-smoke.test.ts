import { it, expect } from 'vitest';
import pg from 'pg';
import { startPgBouncer } from '../helpers/pgbouncer.js';
it('smoke', async () => {
  const b = await startPgBouncer();
  const c = new pg.Client({ connectionString: b.urlFor('postgres://postgres@127.0.0.1:5432/postgres') });
  await c.connect();
  const r = await c.query('SELECT $1::int AS x', [1]);
  expect(r.rows[0].x).toBe(1);
  await c.end();
  console.log(await b.admin('SHOW POOLS'));
  await b.close();
});
