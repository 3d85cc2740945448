/**
 * DATABASE_READ_URL on a real streaming replica: a primary of the test's own and a hot
 * standby made from it by pg_basebackup. With the standby's replay paused, a write on the
 * primary is invisible to the standby alone, which shows which server answered each read:
 * slot search and the watches' free-slot counts come from the replica; a hold, and the
 * slot page right after it, from the primary. When the replica goes away, the reads meant
 * for it fall back to the primary (a log line and a metric), and the web stays ready.
 */
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../src/accounts/sessions.js';
import { loadConfig, newSecretKey } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { withDatabase } from '../../src/db/urls.js';
import type { FastifyInstance } from 'fastify';
import { buildWebApp } from '../helpers/app.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertSlot, insertUser, insertWatch } from '../helpers/factories.js';
import { startOwnPostgres, type OwnPostgres } from '../helpers/postgres-server.js';
import { replicaUnavailable, startReplica, type OwnReplica } from '../helpers/replica.js';

const unavailable = await replicaUnavailable();
if (unavailable) console.error(`read-replica tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('reads on a streaming replica (DATABASE_READ_URL)', () => {
  // only for its Redis prefix (cleaned up after the file): the database is the test's own server
  const ctx = useTestContext();
  let primary: OwnPostgres;
  let replica: OwnReplica | undefined;
  let db: pg.Pool;
  let web: Awaited<ReturnType<typeof buildWebApp>>;
  let app: FastifyInstance;
  const logLines: { msg?: string }[] = [];
  let learner: { id: string; token: string };
  let centerId: string;
  const NEAR = { lat: 51.5, lon: -0.12 };

  beforeAll(async () => {
    primary = await startOwnPostgres();
    const databaseUrl = withDatabase(primary.adminUrl, 'slotwatch_replica_test');
    const admin = new pg.Client({ connectionString: primary.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE slotwatch_replica_test').finally(() => admin.end());
    await migrate({ databaseUrl, direction: 'up' });
    db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const center = await insertCenter(db, { latitude: NEAR.lat, longitude: NEAR.lon });
    centerId = center.id;
    const user = await insertUser(db);
    await insertWatch(db, { userId: user.id, latitude: NEAR.lat, longitude: NEAR.lon, radiusMiles: 10 });
    learner = { id: user.id, token: (await createSession(db, user.id, 1)).token };
    await insertSlot(db, { centerId, start: new Date(Date.now() + 3 * 86_400_000) });

    replica = await startReplica(primary);
    const config = {
      ...loadConfig({
        DATABASE_URL: databaseUrl,
        DATABASE_READ_URL: replica.urlFor(databaseUrl),
        REDIS_URL: ctx.redisUrl,
        SECRET_KEY: newSecretKey(),
        // no worker runs here: the readiness check's grace for a first poll covers the file
        RELEASE_POLL_SECONDS: '600',
        METRICS_PORT: 'off',
        LOG_LEVEL: 'info',
      }),
      QUEUE_PREFIX: ctx.redisPrefix,
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { msg?: string });
        done();
      },
    });
    web = await buildWebApp(config, pino({ level: 'info' }, sink));
    app = web.app;
  }, 60_000);

  afterAll(async () => {
    await web?.close();
    await db?.end();
    await replica?.close();
    await primary?.close();
  });

  const auth = () => ({ authorization: `Bearer ${learner.token}` });
  const search = async () => {
    const res = await app.inject({ method: 'GET', url: `/api/slots?lat=${NEAR.lat}&lon=${NEAR.lon}&radiusMiles=5` });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { slots: { id: string }[] }).slots.map((s) => s.id);
  };
  const freeSlotCount = async () => {
    const res = await app.inject({ method: 'GET', url: '/api/me/watches/coverage', headers: auth() });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { watches: { freeSlots: number }[] }).watches.map((w) => w.freeSlots);
  };

  it('reads search and counts from the replica, and holds and the page after a hold from the primary', async () => {
    expect(web.deps.readPool).not.toBe(web.deps.pool);
    expect(await search()).toHaveLength(1);
    expect(await freeSlotCount()).toEqual([1]);

    await replica!.pauseReplay();
    const fresh = await insertSlot(db, { centerId, start: new Date(Date.now() + 4 * 86_400_000) });
    // the replica has not applied the new slot: the search and the counts are a moment old
    expect(await search()).not.toContain(fresh.id);
    expect(await freeSlotCount()).toEqual([1]);

    // the hold reads and writes on the primary, which has the slot
    const held = await app.inject({ method: 'POST', url: `/api/slots/${fresh.id}/hold`, headers: auth() });
    expect(held.statusCode, held.body).toBe(201);
    // and the page the learner sees next shows the hold at once
    const page = await app.inject({ method: 'GET', url: `/slots/${fresh.id}`, headers: { cookie: `sw_session=${learner.token}` } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('You are holding this slot.');

    // a watch placed now is listed at once (from the primary), its counts with it
    const placed = await app.inject({ method: 'POST', url: '/api/me/watches', headers: auth(), payload: { location: { latitude: NEAR.lat, longitude: NEAR.lon }, radiusMiles: 10, method: 'email', testTypes: ['practical'] } });
    expect(placed.statusCode, placed.body).toBe(201);
    expect(await freeSlotCount()).toEqual([1, 1]);

    await replica!.resumeReplay();
    await replica!.caughtUp();
    // caught up: the held slot is not free on the replica either
    expect(await search()).not.toContain(fresh.id);
    expect(await freeSlotCount()).toEqual([1, 1]);
  });

  it('falls back to the primary while the replica is away, says so, and stays ready', async () => {
    const metric = async () => {
      const text = await app.metricsRegistry.metrics();
      return Number(/^slotwatch_read_replica_fallbacks_total (\d+)$/m.exec(text)?.[1]);
    };
    const before = await metric();
    await replica!.stop();
    const onPrimary = await insertSlot(db, { centerId, start: new Date(Date.now() + 5 * 86_400_000) });
    // the replica is down: the search is answered from the primary, so it has the new slot
    expect(await search()).toContain(onPrimary.id);
    expect(await freeSlotCount()).toEqual([2, 2]);
    expect(await metric()).toBeGreaterThan(before);
    expect(logLines.filter((l) => l.msg === 'read replica not answering; reading from the primary')).toHaveLength(1);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode, ready.body).toBe(200);
  });
});
