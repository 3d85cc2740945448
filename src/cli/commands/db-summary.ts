import { createPool } from '../../db/pool.js';
import { appliedMigrations } from '../../db/migrate.js';
import type { Command } from '../command.js';

/** Prints what the schema holds: migrations, and per table its rows, constraints and indexes. */
export const dbSummary: Command = {
  name: 'db:summary',
  async run(_args, config) {
    const applied = await appliedMigrations(config.DATABASE_DIRECT_URL);
    console.log(`Database ${new URL(config.DATABASE_DIRECT_URL).pathname.slice(1)}: ${applied.length} migrations applied`);
    for (const name of applied) console.log(`  ${name}`);
    const pool = createPool(config.DATABASE_DIRECT_URL, { max: 1 });
    try {
      const { rows } = await pool.query<{ table: string; rows: string; checks: string; uniques: string; exclusions: string; fkeys: string; indexes: string }>(`
        SELECT c.relname AS table,
               (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text AS rows,
               count(*) FILTER (WHERE k.contype = 'c') AS checks,
               count(*) FILTER (WHERE k.contype IN ('u', 'p')) AS uniques,
               count(*) FILTER (WHERE k.contype = 'x') AS exclusions,
               count(*) FILTER (WHERE k.contype = 'f') AS fkeys,
               (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes
          FROM pg_class c
          LEFT JOIN pg_constraint k ON k.conrelid = c.oid
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
           AND c.relname NOT IN ('spatial_ref_sys', 'pgmigrations')
         GROUP BY c.oid, c.relname ORDER BY c.relname`);
      const header = ['table', 'rows', 'checks', 'unique', 'exclusion', 'foreign', 'indexes'];
      const table = rows.map((r) => [r.table, r.rows, r.checks, r.uniques, r.exclusions, r.fkeys, r.indexes].map(String));
      const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
      const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      console.log('\n' + line(header));
      for (const row of table) console.log(line(row));
      const { rows: enums } = await pool.query<{ name: string; labels: string }>(`
        SELECT t.typname AS name, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS labels
          FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY t.typname`);
      console.log('\nEnums');
      for (const e of enums) console.log(`  ${e.name}: ${e.labels}`);
    } finally {
      await pool.end();
    }
  },
};
