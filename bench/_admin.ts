import pg from 'pg';

/** Runs one statement on its own connection (CREATE or DROP DATABASE, which no pool may hold). */
export async function admin(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
