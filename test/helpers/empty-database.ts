/** A brand-new empty database for a test that migrates part way, adds rows as an older schema had them, and migrates on. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { withDatabase } from './services.js';

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: inject('adminUrl') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Call at the top of a describe: returns a function that creates the database (once) and gives its URL; it is dropped after the file. */
export function useEmptyDatabase(label: string): () => Promise<string> {
  const name = `sw_t_${inject('runId')}_${label}_${randomBytes(3).toString('hex')}`;
  afterAll(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  return async () => {
    await adminQuery(`CREATE DATABASE ${name} TEMPLATE template0`);
    return withDatabase(inject('adminUrl'), name);
  };
}
