import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';
import { migrationsDir } from '../paths.js';

// node-pg-migrate's own lock is pg_try_advisory_lock: a second deploy would fail instead
// of waiting, and after a failed migration its unlock runs inside the aborted transaction
// and hides the real error. So we hold a blocking advisory lock of our own on the same
// session (noLock for the runner): concurrent `release` phases queue up and the later one
// finds nothing left to do.
const LOCK_SQL = `SELECT pg_advisory_lock(hashtext('slotwatch:migrate'))`;
const UNLOCK_SQL = `SELECT pg_advisory_unlock(hashtext('slotwatch:migrate'))`;

export const MIGRATIONS_TABLE = 'pgmigrations';

type MigrationLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface MigrateOptions {
  databaseUrl: string;
  direction: 'up' | 'down';
  /** How many to apply or revert; default all for up, one for down. */
  count?: number;
  logger?: MigrationLogger;
  /** Folder of migration files; the project's migrations/ unless a test says otherwise. */
  dir?: string;
}

function runnerLogger(logger: MigrationLogger | undefined) {
  const forward = (level: 'info' | 'warn' | 'error') => (msg: string) => {
    // our files are numbered 0001_..., not timestamped; node-pg-migrate reads the number
    // correctly (Number(prefix)) but first complains that it is no timestamp
    if (msg.startsWith("Can't determine timestamp")) return;
    logger?.[level](msg);
  };
  return { info: forward('info'), warn: forward('warn'), error: forward('error'), debug: () => {} };
}

/**
 * Applies (or reverts) the numbered SQL files in migrations/, each in its own transaction
 * with its row in the `pgmigrations` ledger. Returns the names that ran.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'slotwatch-migrate' });
  await client.connect();
  try {
    await client.query(LOCK_SQL);
    try {
      const ran = await runner({
        dbClient: client,
        dir: options.dir ?? migrationsDir,
        direction: options.direction,
        count: options.count ?? (options.direction === 'up' ? Infinity : 1),
        migrationsTable: MIGRATIONS_TABLE,
        singleTransaction: false, // each file is its own unit: BEGIN ... ledger row ... COMMIT
        checkOrder: true,
        noLock: true,
        logger: runnerLogger(options.logger),
      });
      return ran.map((m) => m.name);
    } finally {
      await client.query('ROLLBACK').catch(() => {}); // ends a failed migration's transaction
      await client.query(UNLOCK_SQL);
    }
  } finally {
    await client.end();
  }
}

/** Names of the migrations recorded as applied, oldest first. */
export async function appliedMigrations(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const exists = await client.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [MIGRATIONS_TABLE]);
    if (!exists.rows[0]?.t) return [];
    const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`);
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}
