/**
 * Once per `vitest run`: find the services, build one migrated template database, and
 * hand its name to the test files, each of which clones it (test/helpers/context.ts).
 * Afterwards drop every database and Redis key this run made.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/db/migrate.js';
import { deleteKeysMatching } from '../src/queues/redis.js';
import { findServices, withDatabase } from './helpers/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    redisUrl: string;
    templateDatabase: string;
    runId: string;
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export default async function setup(project: TestProject) {
  const services = await findServices();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const templateDatabase = `sw_tpl_${runId}`;
  await adminQuery(services.adminUrl, `CREATE DATABASE ${templateDatabase}`);
  await migrate({ databaseUrl: withDatabase(services.adminUrl, templateDatabase), direction: 'up' });

  project.provide('adminUrl', services.adminUrl);
  project.provide('redisUrl', services.redisUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('runId', runId);

  return async () => {
    // every per-file database is named sw_t_<runId>_...; a file that crashed before its
    // afterAll leaves one behind, so sweep by name rather than trust the files
    const { rows } = await adminQuery(
      services.adminUrl,
      `SELECT datname FROM pg_database WHERE datname LIKE 'sw\\_t\\_${runId}\\_%' OR datname = '${templateDatabase}'`,
    );
    for (const { datname } of rows as { datname: string }[]) {
      await adminQuery(services.adminUrl, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    const redis = new Redis(services.redisUrl, { lazyConnect: true });
    await redis.connect();
    try {
      // a file's prefix (swt:<run>:<file>), and the same with ':' made '_', as some tests
      // hand it to their child workers (two-workers, hand-off)
      for (const pattern of [`*swt:${runId}:*`, `*swt_${runId}_*`]) await deleteKeysMatching(redis, pattern);
    } finally {
      redis.disconnect();
    }
    await services.stop();
  };
}
