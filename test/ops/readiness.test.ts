/** /readyz: PostgreSQL and Redis answer, and the release poller has polled within 5 intervals. */
import { describe, expect, it } from 'vitest';
import { recordHeartbeat } from '../../src/queues/heartbeat.js';
import { useTestApp } from '../helpers/app.js';

const t = useTestApp({ RELEASE_POLL_SECONDS: 2 });

describe('GET /readyz and the release poller', () => {
  it('is ready while the poller keeps polling, and 503 once it has been quiet for more than 5 intervals', async () => {
    // a fresh process with no poll on record yet is given the same grace to let workers start
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    await recordHeartbeat(t.ctx.redis, t.config.QUEUE_PREFIX, 'poll-releases', Date.now() - 11_000);
    const stale = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(stale.statusCode).toBe(503);
    expect(stale.json().error).toMatchObject({ code: 'POLLER_STALLED' });
    expect(stale.json().error.message).toMatch(/more than 5 intervals of 2 s/);

    await recordHeartbeat(t.ctx.redis, t.config.QUEUE_PREFIX, 'poll-releases', Date.now() - 9_000);
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('answers 503 NOT_READY, not 500, when the poller check itself does not answer in time', async () => {
    const locker = await t.ctx.pool.connect();
    try {
      await locker.query(`BEGIN`);
      await locker.query(`LOCK TABLE system_config IN ACCESS EXCLUSIVE MODE`);
      // SELECT 1 answers, but the settings, re-read once the cache's 5 s have passed, wait on the lock
      await new Promise((resolve) => setTimeout(resolve, 5100));
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatchObject({ code: 'NOT_READY' });
    } finally {
      await locker.query(`ROLLBACK`);
      locker.release();
    }
  });

  it('follows an admin’s change of the poll interval', async () => {
    await recordHeartbeat(t.ctx.redis, t.config.QUEUE_PREFIX, 'poll-releases', Date.now() - 30_000);
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await t.ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ('release_poll_seconds', '10')`);
    await expect.poll(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, { timeout: 15_000, interval: 500 }).toBe(200);
  });
});
