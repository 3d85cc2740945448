/**
 * PostgreSQL away for a moment (its connections cut, new ones refused) while the web app
 * serves: every request is a 503 DEPENDENCY_UNAVAILABLE with Retry-After, never a 500 or a
 * stack trace, and once the database is back the same app answers again with no restart.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { useTestApp } from '../helpers/app.js';
import { startCuttableProxy, type CuttableProxy } from '../helpers/cuttable-proxy.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';

let proxy: CuttableProxy;
let appPool: pg.Pool | undefined;
beforeAll(async () => {
  const server = new URL(inject('adminUrl'));
  proxy = await startCuttableProxy({ host: server.hostname, port: Number(server.port || 5432) });
});

const t = useTestApp({}, (ctx) => {
  const url = new URL(ctx.databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  appPool = createPool(url.toString(), { max: 4 });
  return { pool: appPool };
});

afterAll(async () => {
  await appPool?.end();
  await proxy?.close();
});

describe('PostgreSQL away', () => {
  it('answers 503 with Retry-After meanwhile, and serves again once it is back', async () => {
    const centre = await insertCenter(t.ctx.pool, { latitude: 52.5, longitude: -1.9 });
    const slot = await insertSlot(t.ctx.pool, { centerId: centre.id, start: new Date(Date.now() + 5 * 86_400_000) });
    const me = await t.signedIn();
    const search = { method: 'GET' as const, url: '/api/slots?lat=52.5&lon=-1.9&radiusMiles=10' };
    expect((await t.app.inject(search)).statusCode).toBe(200);

    await proxy.cut();
    const answers = [
      await t.app.inject(search),
      await t.app.inject({ method: 'GET', url: '/api/me', headers: t.auth(me.token) }),
      await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: t.auth(me.token) }),
    ];
    for (const res of answers) {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['retry-after']).toBe('2');
      expect(res.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
      expect(res.body).not.toMatch(/ECONNREFUSED|terminated|at .*\.js/);
    }

    await proxy.restore();
    const found = await t.app.inject(search);
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().slots.map((s: { id: string }) => s.id)).toContain(slot.id);
    // the hold refused while it was away left nothing, and can be taken now
    expect((await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: t.auth(me.token) })).statusCode).toBe(201);
  });
});
