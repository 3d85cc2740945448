/**
 * db/schema.sql is what the migrations build today, and `npm run cli -- db:schema` says
 * clearly when it is stale or when pg_dump cannot be used.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { describeSchemaDifference, formatSchemaDifference, generateSchema, normaliseDump, SCHEMA_COMMAND } from '../../src/db/schema.js';
import { schemaFile } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';


const cli = (...args: string[]) => runCli(['db:schema', ...args], { DATABASE_URL: inject('adminUrl') });

describe('db/schema.sql', () => {
  it('is what the migrations produce now', async () => {
    const generated = await generateSchema({
      serverUrl: inject('adminUrl'),
      // named like the run's other databases, so the teardown sweeps it if this test dies
      database: `sw_t_${inject('runId')}_schema_${randomBytes(3).toString('hex')}`,
    });
    const committed = await readFile(schemaFile, 'utf8').catch(() => null);
    const difference = describeSchemaDifference(committed, generated);
    if (difference) {
      expect.fail(`db/schema.sql is out of date with migrations/: run \`${SCHEMA_COMMAND}\` and commit the file.\n${formatSchemaDifference(difference)}`);
    }
  });
});

describe('normaliseDump', () => {
  it('keeps the objects and drops the random keys, session settings, banners and extension comments', () => {
    const dump = [
      '--', '-- PostgreSQL database dump', '--', '', '\\restrict AbC123', '',
      '-- Dumped from database version 15.20', '-- Dumped by pg_dump version 15.20', '',
      'SET statement_timeout = 0;', "SELECT pg_catalog.set_config('search_path', '', false);", '',
      '--', '-- Name: postgis; Type: EXTENSION; Schema: -; Owner: -', '--', '',
      'CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;', '', '',
      '--', '-- Name: EXTENSION postgis; Type: COMMENT; Schema: -; Owner: -', '--', '',
      "COMMENT ON EXTENSION postgis IS 'PostGIS geometry';", '', '',
      "SET default_tablespace = '';", '', 'SET default_table_access_method = heap;', '',
      '--', '-- Name: t; Type: TABLE; Schema: public; Owner: -', '--', '',
      'CREATE TABLE public.t (', '    id integer', ');', '', '',
      '--', '-- PostgreSQL database dump complete', '--', '', '\\unrestrict AbC123', '',
    ].join('\n');
    const out = normaliseDump(dump, { serverMajor: 15, latestMigration: '0001_x' });
    expect(out).toMatch(/^-- slotwatch database schema\. GENERATED FILE: do not edit it by hand\./);
    expect(out).toContain(`\`${SCHEMA_COMMAND}\``);
    expect(out).toContain('up to 0001_x, on PostgreSQL 15');
    const body = out.slice(out.indexOf('\n\n\n') + 3);
    expect(body).toBe(
      [
        '--', '-- Name: postgis; Type: EXTENSION; Schema: -; Owner: -', '--', '',
        'CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;', '', '',
        '--', '-- Name: t; Type: TABLE; Schema: public; Owner: -', '--', '',
        'CREATE TABLE public.t (', '    id integer', ');', '',
      ].join('\n'),
    );
  });
});

describe('npm run cli -- db:schema', () => {
  it('--check exits 1 on a stale file, naming the lines and the command; without it, writes the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sw-schema-'));
    const stale = join(dir, 'stale.sql');
    const committed = await readFile(schemaFile, 'utf8');
    await writeFile(stale, committed.replace('CREATE TYPE public.user_role AS ENUM', 'CREATE TYPE public.user_rank AS ENUM'));
    const check = await cli('--check', '--file', stale);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('1 line(s) only in the file, 1 only in what the migrations produce');
    expect(check.stderr).toMatch(/^- +\d+: CREATE TYPE public\.user_rank AS ENUM \($/m);
    expect(check.stderr).toMatch(/^\+ +\d+: CREATE TYPE public\.user_role AS ENUM \($/m);
    expect(check.stderr).toContain(`Run \`${SCHEMA_COMMAND} --file ${stale}\` to regenerate it.`);

    const fresh = join(dir, 'fresh.sql');
    const write = await cli('--file', fresh);
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toContain('before: the file is missing');
    expect(await readFile(fresh, 'utf8')).toBe(committed);
  });

  it('says what to install when pg_dump is missing or of another major version', async () => {
    const missing = await cli('--check', '--pg-dump', '/nonexistent/pg_dump');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^db:schema: \/nonexistent\/pg_dump was not found; the server is PostgreSQL (\d+): install the PostgreSQL \1 client tools \(Debian\/Ubuntu: apt-get install postgresql-client-\1;/);

    const dir = await mkdtemp(join(tmpdir(), 'sw-pgdump-'));
    const other = join(dir, 'pg_dump');
    await writeFile(other, '#!/bin/sh\necho "pg_dump (PostgreSQL) 99.1"\n');
    await chmod(other, 0o755);
    const mismatch = await cli('--check', '--pg-dump', other);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(new RegExp(`^db:schema: ${other} is PostgreSQL 99 but the server is PostgreSQL (\\d+); the two must match: install the PostgreSQL \\1 client tools`));
  });
});
