/**
 * SIGTERM to a worker in the middle of delivering a batch: it stops within 25 s, and a
 * second worker finishes the work with no alert lost and none sent twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertUser, insertWatch } from '../helpers/factories.js';
import { startProcess, stopProcess } from '../helpers/processes.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';

const ctx = useTestContext();
let smtp: SmtpReceiver;
const LEARNERS = 60;
const SLOTS = 5;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
});
afterAll(async () => {
  await smtp.close();
});

describe('a worker stopped mid-batch', () => {
  it('loses and duplicates nothing: another worker finishes the batch', async () => {
    const { id: centerId } = await insertCenter(ctx.pool, { latitude: 52.2, longitude: 0.12 });
    for (let i = 0; i < LEARNERS; i++) {
      const u = await insertUser(ctx.pool);
      await insertWatch(ctx.pool, { userId: u.id, latitude: 52.2 + i * 0.001, longitude: 0.12, radiusMiles: 20 });
    }
    // every alert its own message (no digests), so that there is a batch of 300 to stop in
    await ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ('alert_digest_seconds', '0')`);
    // slow enough sending that SIGTERM lands mid-batch: 300 alerts at 40 a second
    const env = { SMTP_URL: smtp.url, DELIVERY_EMAIL_PER_SECOND: '40', RELEASE_POLL_SECONDS: '1' };
    const first = startProcess('workers/worker.ts', ctx, env);
    await first.waitForLog('worker started');
    await ctx.pool.query(
      `INSERT INTO time_slots (center_id, test_type, start_time, end_time)
       SELECT $1, 'practical', t, t + interval '57 minutes'
         FROM generate_series(timestamptz '2031-03-02 09:00Z', timestamptz '2031-03-02 09:00Z' + ($2::int - 1) * interval '1 hour', interval '1 hour') t`,
      [centerId, SLOTS],
    );
    await smtp.waitForCount(40, 60_000);
    const stopped = await stopProcess(first);
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(25_000); // the contract with the PaaS, which kills at 30 s
    const sentBeforeStop = smtp.messages.length;
    expect(sentBeforeStop).toBeLessThan(LEARNERS * SLOTS); // it really was mid-batch

    const second = startProcess('workers/worker.ts', ctx, { ...env, DELIVERY_EMAIL_PER_SECOND: '1000' });
    try {
      await smtp.waitForCount(LEARNERS * SLOTS, 90_000);
      await expect
        .poll(async () => (await ctx.pool.query(`SELECT count(*)::int AS n FROM user_alerts WHERE status = 'SENT'`)).rows[0].n, { timeout: 30_000 })
        .toBe(LEARNERS * SLOTS);
    } finally {
      await stopProcess(second);
    }
    const perAlert = new Map<string, number>();
    for (const m of smtp.messages) {
      const slot = /\/slots\/([0-9a-f-]{36})/.exec(m.parsed.text ?? '')?.[1];
      const k = `${m.envelopeTo[0]}/${slot}`;
      perAlert.set(k, (perAlert.get(k) ?? 0) + 1);
    }
    expect(perAlert.size).toBe(LEARNERS * SLOTS);
    expect([...perAlert.values()].every((n) => n === 1)).toBe(true);
    const { rows } = await ctx.pool.query(`SELECT status::text, count(*)::int AS n FROM user_alerts GROUP BY 1`);
    expect(rows).toEqual([{ status: 'SENT', n: LEARNERS * SLOTS }]);
  });
});
