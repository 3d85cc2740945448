import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { appliedMigrations, migrate } from './migrate.js';
import { withDatabase } from './urls.js';

/**
 * db/schema.sql: the whole current schema in one file a reader can open, made by migrating
 * a throwaway database and dumping its schema with pg_dump. Migrations stay the source of
 * truth; this file is their result, checked by `db:schema --check` and test/db/schema.test.ts.
 */

const execFileAsync = promisify(execFile);

/** The command people run to regenerate the file; error messages name it. */
export const SCHEMA_COMMAND = 'npm run cli -- db:schema';

// the partitions of a period (user_alerts_p20261130) are made by the migrations and the
// retention task as the weeks go by, so they are data of the day, not the schema: left out,
// the file stays the same from one week to the next (the parents and DEFAULT partitions stay)
const DATED_PARTITIONS = '*_p[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]';

/** pg_dump is missing, the wrong major version, or failed: the message says what to do. */
export class PgDumpError extends Error {
  override name = 'PgDumpError';
}

export interface GenerateSchemaOptions {
  /** A URL on the server to use; the throwaway database is created beside its database. */
  serverUrl: string;
  /** The pg_dump to run; `pg_dump` from PATH by default. */
  pgDump?: string;
  /** The throwaway database's name; slotwatch_schema_<random> by default. */
  database?: string;
}

function installHint(major: number): string {
  return (
    `install the PostgreSQL ${major} client tools (Debian/Ubuntu: apt-get install postgresql-client-${major}; ` +
    `macOS: brew install postgresql@${major}) and put their pg_dump first on PATH, or pass its path as ` +
    `\`${SCHEMA_COMMAND} --pg-dump /path/to/pg_dump\``
  );
}

async function pgDumpMajor(pgDump: string, serverMajor: number): Promise<number> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(pgDump, ['--version']));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PgDumpError(`${pgDump} was not found; the server is PostgreSQL ${serverMajor}: ${installHint(serverMajor)}`);
    }
    throw new PgDumpError(`\`${pgDump} --version\` failed (${(err as Error).message.trim()}): ${installHint(serverMajor)}`);
  }
  const major = /\(PostgreSQL\)\s+(\d+)/.exec(stdout)?.[1];
  if (!major) throw new PgDumpError(`\`${pgDump} --version\` printed "${stdout.trim()}", which names no PostgreSQL version: ${installHint(serverMajor)}`);
  return Number(major);
}

async function runPgDump(pgDump: string, databaseUrl: string, serverMajor: number): Promise<string> {
  try {
    const { stdout } = await execFileAsync(pgDump, ['--schema-only', '--no-owner', '--no-privileges', `--exclude-table=${DATED_PARTITIONS}`, `--dbname=${databaseUrl}`], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    if (/version mismatch/.test(stderr)) throw new PgDumpError(`${stderr}: ${installHint(serverMajor)}`);
    throw new PgDumpError(`pg_dump failed: ${stderr || (err as Error).message}`);
  }
}

/**
 * Creates a database from template0, applies every migration with the project's own runner,
 * dumps its schema and drops it again; returns the normalised text of db/schema.sql.
 */
export async function generateSchema(options: GenerateSchemaOptions): Promise<string> {
  const pgDump = options.pgDump ?? 'pg_dump';
  const admin = new pg.Client({ connectionString: withDatabase(options.serverUrl, 'postgres'), application_name: 'slotwatch-schema' });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ server_version_num: string }>('SHOW server_version_num');
    const serverMajor = Math.floor(Number(rows[0]!.server_version_num) / 10_000);
    // a pg_dump of another major release writes other syntax and settings, so the file
    // would change with whoever last ran the command; newer servers it refuses outright
    const dumpMajor = await pgDumpMajor(pgDump, serverMajor);
    if (dumpMajor !== serverMajor) {
      throw new PgDumpError(`${pgDump} is PostgreSQL ${dumpMajor} but the server is PostgreSQL ${serverMajor}; the two must match: ${installHint(serverMajor)}`);
    }
    const database = options.database ?? `slotwatch_schema_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE "${database}" TEMPLATE template0`);
    try {
      const databaseUrl = withDatabase(options.serverUrl, database);
      await migrate({ databaseUrl, direction: 'up' });
      const applied = await appliedMigrations(databaseUrl);
      const dump = await runPgDump(pgDump, databaseUrl, serverMajor);
      return normaliseDump(dump, { serverMajor, latestMigration: applied.at(-1) ?? '(none)' });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

function header(meta: { serverMajor: number; latestMigration: string }): string {
  return [
    '-- slotwatch database schema. GENERATED FILE: do not edit it by hand.',
    '--',
    `-- What migrations/ build, up to ${meta.latestMigration}, on PostgreSQL ${meta.serverMajor}: written by`,
    `-- \`${SCHEMA_COMMAND}\`, which applies every migration to a throwaway database and`,
    '-- dumps it with pg_dump --schema-only --no-owner --no-privileges. To change the schema,',
    '-- add a migration and run that command; `db:schema --check` and test/db/schema.test.ts',
    '-- fail while this file is out of date. Extensions are listed by their CREATE EXTENSION',
    "-- only (PostGIS's own types and functions come from it); the migrations ledger",
    '-- (pgmigrations) appears without its rows; pg_dump session settings are left out.',
    '-- It is for reading: databases are built by `npm run migrate`, which records what ran.',
  ].join('\n');
}

// pg_dump starts each object with "--\n-- Name: <name>; Type: <type>; ...\n--"
const OBJECT_START = /^(?=--\n-- (?:Name|Data for Name): )/m;
// what pg_dump writes between objects to set up its own session, not part of the schema
const SESSION_LINE = /^(?:SET [a-z_]+ = .*;|SELECT pg_catalog\.set_config\(.*\);|)$/;

/**
 * Makes a pg_dump schema stable and readable: drops the preamble (version lines, session
 * settings), the \restrict/\unrestrict lines whose key is random on every run, the session
 * settings pg_dump puts between objects, the closing banner, and extensions' comments
 * (their wording comes with the installed extension version, not from our migrations).
 */
export function normaliseDump(dump: string, meta: { serverMajor: number; latestMigration: string }): string {
  const text = dump
    .replace(/\r\n/g, '\n')
    .split('\n')
    .filter((line) => !/^\\(?:un)?restrict\b/.test(line))
    .join('\n')
    .replace(/^--\n-- PostgreSQL database dump complete\n--\n/m, '');
  const objects = text
    .split(OBJECT_START)
    .slice(1) // the preamble
    .filter((part) => !/^-- Name: EXTENSION [^;]+; Type: COMMENT;/m.test(part))
    .map((part) => {
      const lines = part.split('\n');
      while (lines.length && SESSION_LINE.test(lines.at(-1)!)) lines.pop();
      return lines.join('\n');
    });
  return `${header(meta)}\n\n\n${objects.join('\n\n\n')}\n`;
}

export interface SchemaDifference {
  /** One line: what kind of difference, and how big. */
  headline: string;
  /** Up to `limit` differing lines, "-" from the file and "+" from the migrations, with their line numbers. */
  lines: string[];
}

/** What differs between the committed file and the generated text; null when they are the same. */
export function describeSchemaDifference(committed: string | null, generated: string, limit = 20): SchemaDifference | null {
  if (committed === generated) return null;
  if (committed === null) return { headline: 'the file is missing', lines: [] };
  const a = committed.split('\n');
  const b = generated.split('\n');
  // lines present more often on one side than the other: order-blind, but it shows what
  // a new migration added or removed, which is what someone regenerating needs to see
  const surplus = new Map<string, number>();
  for (const line of a) surplus.set(line, (surplus.get(line) ?? 0) + 1);
  for (const line of b) surplus.set(line, (surplus.get(line) ?? 0) - 1);
  const pick = (lines: string[], sign: 1 | -1, mark: string): string[] => {
    const taken = new Map<string, number>();
    const out: string[] = [];
    lines.forEach((line, i) => {
      const n = taken.get(line) ?? 0;
      if ((surplus.get(line) ?? 0) * sign > n) {
        taken.set(line, n + 1);
        out.push(`${mark} ${String(i + 1).padStart(5)}: ${line}`);
      }
    });
    return out;
  };
  const removed = pick(a, 1, '-');
  const added = pick(b, -1, '+');
  if (!removed.length && !added.length) {
    const first = a.findIndex((line, i) => line !== b[i]);
    return { headline: `the same lines in another order, from line ${first + 1}`, lines: [] };
  }
  const shown = [...removed, ...added];
  return {
    headline: `${removed.length} line(s) only in the file, ${added.length} only in what the migrations produce`,
    lines: [...shown.slice(0, limit), ...(shown.length > limit ? [`  ... and ${shown.length - limit} more`] : [])],
  };
}

/** The difference as text for a terminal or a test failure. */
export function formatSchemaDifference(d: SchemaDifference): string {
  return [d.headline + (d.lines.length ? ':' : ''), ...d.lines].join('\n');
}
