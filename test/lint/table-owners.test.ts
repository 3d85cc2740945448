/**
 * One owner per table: the only module in src/ whose SQL inserts into, updates or deletes
 * from a table is the one named here (others call its functions, or compose its CTE parts
 * into a statement of their own). A new table needs an owner in this list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { useTestContext } from '../helpers/context.js';

const OWNERS: Record<string, string | null> = {
  users: 'src/accounts/users.ts',
  sessions: 'src/accounts/sessions.ts',
  account_tokens: 'src/accounts/account-tokens.ts',
  audit_logs: 'src/audit/audit.ts',
  system_config: 'src/settings/update.ts',
  test_centers: 'src/slots/centers.ts',
  specialists: 'src/slots/specialists.ts',
  time_slots: 'src/slots/time-slots.ts',
  slot_releases: 'src/slots/releases.ts',
  feed_polls: 'src/slots/feeds/poll.ts',
  user_preferences: 'src/watches/watches.ts',
  push_subscriptions: 'src/watches/push-subscriptions.ts',
  postcodes: 'src/watches/postcode-import.ts',
  user_alerts: 'src/alerts/store.ts',
  alert_messages: 'src/alerts/messages.ts',
  appointments: 'src/booking/appointments.ts',
  appointment_events: 'src/booking/history.ts',
  idempotency_keys: 'src/booking/idempotency.ts',
  // kept by the database's own triggers on user_preferences and test_centers
  watch_coverage: null,
  // folded by src/metrics/counts.ts from the changes the counting triggers append
  metric_counts: 'src/metrics/counts.ts',
  metric_count_changes: 'src/metrics/counts.ts',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every file under src/ whose text writes each table, by table. */
function writersByTable(tables: string[]): Map<string, string[]> {
  const writers = new Map(tables.map((t) => [t, [] as string[]]));
  const write = new RegExp(`\\b(?:INSERT\\s+INTO|UPDATE|DELETE\\s+FROM)\\s+(${tables.join('|')})\\b`, 'g');
  for (const file of sourceFiles(join(projectRoot, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const table of new Set([...text.matchAll(write)].map((m) => m[1]!))) writers.get(table)!.push(relative(projectRoot, file));
  }
  return writers;
}

describe('tables and their owners', () => {
  const ctx = useTestContext();

  it('every table has an owner, and only its owner writes it', async () => {
    const { rows } = await ctx.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('spatial_ref_sys', 'pgmigrations')
          -- a partition is its table's: written through it
          AND NOT (SELECT relispartition FROM pg_class WHERE oid = quote_ident(table_name)::regclass)
        ORDER BY 1`,
    );
    const tables = rows.map((r) => r.table_name);
    expect(tables.filter((t) => !(t in OWNERS)), 'tables with no owner listed here').toEqual([]);
    const writers = writersByTable(tables);
    for (const table of tables) {
      const owner = OWNERS[table];
      expect(writers.get(table), `modules writing ${table}`).toEqual(owner ? [owner] : []);
    }
  });
});
