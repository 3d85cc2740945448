/** What a PaaS hands over: TLS when DATABASE_URL or REDIS_URL asks for it, PORT, and the built entry points. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPool } from '../../src/db/pool.js';
import { projectRoot } from '../../src/paths.js';
import { Cluster, Redis } from 'ioredis';
import { createRedis } from '../../src/queues/redis.js';
import { withDatabase } from '../helpers/services.js';
import { inject } from 'vitest';

describe('connections follow their URLs', () => {
  it('DATABASE_URL with sslmode asks for TLS (the local server has none, so it is refused rather than sent in the clear)', async () => {
    const url = withDatabase(inject('adminUrl'), 'postgres');
    const tls = createPool(`${url}?sslmode=no-verify`, { max: 1 });
    await expect(tls.query('SELECT 1')).rejects.toThrow(/does not support SSL/);
    await tls.end();
    const plain = createPool(url, { max: 1 });
    await expect(plain.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await plain.end();
  });

  it('REDIS_URL rediss:// turns TLS on, redis:// leaves it off', () => {
    const secure = createRedis('rediss://user:pw@cache.example:6380', 'producer', { lazyConnect: true });
    const plain = createRedis('redis://127.0.0.1:6379', 'producer', { lazyConnect: true });
    expect(secure).toBeInstanceOf(Redis);
    expect((secure as Redis).options.tls).toBeTruthy();
    expect((secure as Redis).options).toMatchObject({ host: 'cache.example', port: 6380, password: 'pw' });
    expect((plain as Redis).options.tls).toBeFalsy();
    secure.disconnect();
    plain.disconnect();
  });

  it('REDIS_URL rediss-cluster:// makes a Cluster on the seed nodes, with the credentials and TLS on every node', () => {
    const secure = createRedis('rediss-cluster://user:p%40ss@a.example:7000,b.example:7001', 'worker', { lazyConnect: true });
    const plain = createRedis('redis-cluster://10.0.0.1:7000', 'producer', { lazyConnect: true });
    expect(secure).toBeInstanceOf(Cluster);
    const c = secure as Cluster;
    expect(c.options.redisOptions).toMatchObject({ username: 'user', password: 'p@ss', maxRetriesPerRequest: null });
    expect(c.options.redisOptions?.tls).toBeTruthy();
    expect(c.options.scaleReads).toBe('master');
    expect((plain as Cluster).options.redisOptions?.tls).toBeUndefined();
    // the producer fails fast: no cluster-level offline queue
    expect((plain as Cluster).options.enableOfflineQueue).toBe(false);
    secure.disconnect();
    plain.disconnect();
  });
});

describe('Procfile', () => {
  it('runs web, worker and release from what npm run build produces', () => {
    const procfile = readFileSync(join(projectRoot, 'Procfile'), 'utf8');
    const processes = Object.fromEntries(procfile.trim().split('\n').map((l) => l.split(/:\s+/, 2) as [string, string]));
    expect(processes).toEqual({
      release: 'node dist/src/cli/migrate.js up',
      web: 'node dist/workers/web.js',
      worker: 'node dist/workers/worker.js',
    });
    const build = JSON.parse(readFileSync(join(projectRoot, 'tsconfig.build.json'), 'utf8'));
    expect(build.include).toEqual(expect.arrayContaining(['src', 'workers']));
  });
});
