/**
 * A burst of sign-ups cannot starve sign-ins: new password hashes go through a bounded
 * lane (PASSWORD_HASH_CONCURRENCY at once, PASSWORD_HASH_QUEUE waiting, the rest told
 * 503 SERVER_BUSY with Retry-After), while sign-in verifies outside it. The test fires 50
 * sign-ups at once, checks the bound held and every answer was 202 or 503, and prints how
 * long a sign-in made in the middle of the burst took beside one made alone (a figure to
 * read, not a timed assertion: it depends on the machine's load).
 */
import { describe, expect, it } from 'vitest';
import { HashLane } from '../../src/accounts/hash-lane.js';
import { hashPassword } from '../../src/accounts/passwords.js';
import { createUser } from '../../src/accounts/users.js';
import { useTestApp } from '../helpers/app.js';

// a short queue keeps the test's own hashing (each a second or more on a busy machine) brief
const t = useTestApp({ LOGIN_LIMIT_PER_MINUTE: 1000, REGISTER_LIMIT_PER_MINUTE_IP: 1000, REGISTER_LIMIT_PER_MINUTE: 1000, PASSWORD_HASH_QUEUE: 4 });
const PASSWORD = 'correct horse battery';

describe('the bound on new password hashes', () => {
  it('holds under 50 concurrent sign-ups, and a concurrent sign-in still gets through (latency printed)', async () => {
    const email = 'signs-in@lane.test';
    await createUser(t.ctx.pool, { email, passwordHash: await hashPassword(PASSWORD), role: 'CLIENT' });
    const signIn = async () => {
      const start = performance.now();
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } });
      expect(res.statusCode).toBe(200);
      return performance.now() - start;
    };
    const alone = [await signIn(), await signIn(), await signIn()].sort((a, b) => a - b)[1]!;

    const lane = t.app.hashLane;
    const burst = Array.from({ length: 50 }, (_, i) =>
      t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `burst-${i}@lane.test`, password: PASSWORD } }),
    );
    // sign in once the lane is full and its queue has formed
    while (lane.load.queued < lane.queueLimit) await new Promise((r) => setTimeout(r, 1));
    const during = await signIn();
    const answers = await Promise.all(burst);
    await t.app.accountMail.idle();

    expect(lane.peakRunning).toBeLessThanOrEqual(lane.concurrency);
    const byStatus = new Map<number, number>();
    for (const res of answers) {
      byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 503) {
        expect(res.json().error.code).toBe('SERVER_BUSY');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      } else {
        expect(res.statusCode).toBe(202);
      }
    }
    // the lane took as many as it runs and queues; the rest were told to come back
    expect(byStatus.get(202)).toBe(Math.min(50, lane.concurrency + lane.queueLimit));
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM users WHERE email LIKE 'burst-%'`);
    expect(rows[0].n).toBe(byStatus.get(202));
    console.error(
      `sign-in alone ${alone.toFixed(0)} ms; during 50 concurrent sign-ups ${during.toFixed(0)} ms ` +
        `(lane: ${lane.concurrency} at once, ${lane.queueLimit} queued; answers ${JSON.stringify(Object.fromEntries(byStatus))})`,
    );
  });

  it('never runs more than its bound, hands places on in order, and refuses when the queue is full', async () => {
    const lane = new HashLane(2, 3, (p) => hashPassword(p, { log2N: 10, r: 8, p: 1 }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => lane.hash('lane test password')));
    expect(lane.peakRunning).toBe(2);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(['HashLaneFullError', 'HashLaneFullError', 'HashLaneFullError']);
    expect(lane.load).toEqual({ running: 0, queued: 0 });
  });
});
