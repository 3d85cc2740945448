/** Migrations: up, all the way down, up again; concurrent runs; a failing file changes nothing. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { appliedMigrations, migrate } from '../../src/db/migrate.js';
import { migrationsDir } from '../../src/paths.js';
import { withDatabase } from '../helpers/services.js';

const created: string[] = [];

async function adminQuery(sql: string) {
  const c = new pg.Client({ connectionString: inject('adminUrl') });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A brand-new empty database (not the template): migrations must build everything themselves. */
async function emptyDatabase(): Promise<string> {
  const name = `sw_t_${inject('runId')}_mig_${randomBytes(3).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE template0`);
  created.push(name);
  return withDatabase(inject('adminUrl'), name);
}

afterAll(async () => {
  for (const name of created) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

/** Everything a migration can create, as comparable text. */
async function schemaFingerprint(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ item: string }>(`
      SELECT 'table ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS item
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN ('spatial_ref_sys', 'geography_columns', 'geometry_columns')
      UNION ALL
      SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
      UNION ALL
      SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
      UNION ALL
      SELECT 'type ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname
      UNION ALL
      SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
      UNION ALL
      SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
      ORDER BY 1`);
    return rows.map((r) => r.item).filter((i) => !i.includes('pgmigrations')); // the ledger outlives its rows
  } finally {
    await c.end();
  }
}

const files = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();

describe('migrations', () => {
  it('are numbered SQL files with an up and a down part each', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    files.forEach((f, i) => expect(f).toMatch(new RegExp(`^${String(i + 1).padStart(4, '0')}_[a-z0-9_]+\\.sql$`)));
  });

  it('round-trip: up, all the way down, up again, leaving the same schema', async () => {
    const url = await emptyDatabase();
    const names = files.map((f) => f.replace(/\.sql$/, ''));
    expect(await migrate({ databaseUrl: url, direction: 'up' })).toEqual(names);
    const first = await schemaFingerprint(url);
    expect(first.some((i) => i.includes('appointments_one_active_per_slot'))).toBe(true);
    expect(first).toContain('extension postgis');

    expect(await migrate({ databaseUrl: url, direction: 'down', count: 1 })).toEqual([names.at(-1)]);
    expect(await migrate({ databaseUrl: url, direction: 'down', count: Infinity })).toEqual(names.slice(0, -1).reverse());
    expect(await appliedMigrations(url)).toEqual([]);
    expect(await schemaFingerprint(url)).toEqual([]);

    expect(await migrate({ databaseUrl: url, direction: 'up' })).toEqual(names);
    expect(await schemaFingerprint(url)).toEqual(first);
    expect(await migrate({ databaseUrl: url, direction: 'up' })).toEqual([]);
  });

  it('two deploys migrating at once apply each file exactly once', async () => {
    const url = await emptyDatabase();
    const [a, b] = await Promise.all([migrate({ databaseUrl: url, direction: 'up' }), migrate({ databaseUrl: url, direction: 'up' })]);
    expect([...a, ...b].sort()).toEqual(files.map((f) => f.replace(/\.sql$/, '')).sort());
    expect(await appliedMigrations(url)).toHaveLength(files.length);
  });

  it('a failing migration changes nothing and reports its own error', async () => {
    const url = await emptyDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'sw-mig-'));
    await writeFile(join(dir, '0001_ok.sql'), '-- Up Migration\nCREATE TABLE ok_one (id int);\n-- Down Migration\nDROP TABLE ok_one;\n');
    await writeFile(
      join(dir, '0002_broken.sql'),
      '-- Up Migration\nCREATE TABLE half_done (id int);\nCREATE TABLE broken (id nosuchtype);\n-- Down Migration\nDROP TABLE half_done;\n',
    );
    await expect(migrate({ databaseUrl: url, direction: 'up', dir })).rejects.toThrow(/nosuchtype/);
    expect(await appliedMigrations(url)).toEqual(['0001_ok']);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query(`SELECT to_regclass('ok_one') AS ok, to_regclass('half_done') AS half`);
    await c.end();
    expect(rows[0]).toEqual({ ok: 'ok_one', half: null });
  });
});
