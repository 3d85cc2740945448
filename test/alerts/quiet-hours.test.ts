/**
 * Quiet hours: the SQL function that says when they end (Europe/London, across midnight
 * and DST), and alerts that wait for them and are skipped then if the slot has gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestContext } from '../helpers/context.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { alertRow, enqueue, finished, insertAlert, startHarness, testConfig, until, waitForAlert, type Harness } from './fixtures.js';

const ctx = useTestContext();
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  h = await startHarness(testConfig(ctx, { SMTP_URL: smtp.url }));
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

async function quietUntil(start: string | null, end: string | null, at: string): Promise<string | null> {
  const { rows } = await ctx.pool.query<{ u: Date | null }>(`SELECT quiet_hours_until($1::time, $2::time, $3::timestamptz) AS u`, [start, end, at]);
  return rows[0]!.u?.toISOString() ?? null;
}

describe('quiet_hours_until', () => {
  it('gives the end of the quiet period containing the instant, in London time, else null', async () => {
    // winter (GMT): 22:00-07:00 wraps midnight
    expect(await quietUntil('22:00', '07:00', '2031-01-14T23:30:00Z')).toBe('2031-01-15T07:00:00.000Z');
    expect(await quietUntil('22:00', '07:00', '2031-01-15T06:59:00Z')).toBe('2031-01-15T07:00:00.000Z');
    expect(await quietUntil('22:00', '07:00', '2031-01-15T07:00:00Z')).toBeNull();
    expect(await quietUntil('22:00', '07:00', '2031-01-14T12:00:00Z')).toBeNull();
    // summer (BST, UTC+1): 23:30 UTC is 00:30 in London, quiet until 07:00 BST = 06:00 UTC
    expect(await quietUntil('22:00', '07:00', '2031-07-14T23:30:00Z')).toBe('2031-07-15T06:00:00.000Z');
    expect(await quietUntil('22:00', '07:00', '2031-07-14T21:30:00Z')).toBe('2031-07-15T06:00:00.000Z'); // 22:30 BST
    expect(await quietUntil('22:00', '07:00', '2031-07-14T20:30:00Z')).toBeNull(); // 21:30 BST
    // a daytime window, and none at all
    expect(await quietUntil('09:00', '17:00', '2031-07-14T10:00:00Z')).toBe('2031-07-14T16:00:00.000Z');
    expect(await quietUntil(null, null, '2031-07-14T10:00:00Z')).toBeNull();
    // the night the clocks go forward (30 March 2031, 01:00 GMT -> 02:00 BST)
    expect(await quietUntil('22:00', '07:00', '2031-03-30T00:30:00Z')).toBe('2031-03-30T06:00:00.000Z');
  });

  it('is refused for half-set or empty quiet hours', async () => {
    const a = await insertAlert(ctx.pool);
    await expect(ctx.pool.query(`UPDATE users SET quiet_hours_start = '22:00' WHERE id = $1`, [a.userId])).rejects.toMatchObject({ constraint: 'users_quiet_hours_pair' });
    await expect(ctx.pool.query(`UPDATE users SET quiet_hours_start = '22:00', quiet_hours_end = '22:00' WHERE id = $1`, [a.userId])).rejects.toMatchObject({
      constraint: 'users_quiet_hours_pair',
    });
  });
});

// quiet hours around the present moment, whatever time the test runs
const QUIET_NOW = `UPDATE users SET quiet_hours_start = ((now() AT TIME ZONE 'Europe/London')::time - interval '1 hour'),
                                    quiet_hours_end   = ((now() AT TIME ZONE 'Europe/London')::time + interval '1 hour')
                    WHERE id = $1`;

describe('an alert in quiet hours', () => {
  it('waits (delayed, still PENDING, nothing sent) and goes out once they are over', async () => {
    const a = await insertAlert(ctx.pool);
    await ctx.pool.query(QUIET_NOW, [a.userId]);
    const job = await enqueue(h.producer, a);
    await until(async () => (await job.getState()) === 'delayed', 'the job to be delayed');
    expect(await alertRow(ctx.pool, a.alertId)).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(0);

    // the user ends their quiet hours; the delayed job is brought forward as the clock would
    await ctx.pool.query(`UPDATE users SET quiet_hours_start = NULL, quiet_hours_end = NULL WHERE id = $1`, [a.userId]);
    await job.promote();
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', attempts: 1 });
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(1);
  });

  it('is SKIPPED when they end if the slot has gone meanwhile', async () => {
    const a = await insertAlert(ctx.pool);
    await ctx.pool.query(QUIET_NOW, [a.userId]);
    const job = await enqueue(h.producer, a);
    await until(async () => (await job.getState()) === 'delayed', 'the job to be delayed');
    await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = $1`, [a.slotId]);
    await job.promote();
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SKIPPED', last_error: 'slot is HOLD', attempts: 0 });
    expect(smtp.messages.filter((m) => m.envelopeTo.includes(a.email))).toHaveLength(0);
  });
});

describe('the admin’s default quiet hours', () => {
  // the quiet_hours_default setting as PUT /api/admin/config stores it: HH:MM around now
  const setDefault = (value: unknown) =>
    ctx.pool.query(
      `INSERT INTO system_config (key, value) VALUES ('quiet_hours_default', $1::jsonb)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [JSON.stringify(value)],
    );
  const aroundNow = async () => {
    const { rows } = await ctx.pool.query<{ start: string; end: string }>(
      `SELECT to_char((now() AT TIME ZONE 'Europe/London') - interval '1 hour', 'HH24:MI') AS start,
              to_char((now() AT TIME ZONE 'Europe/London') + interval '1 hour', 'HH24:MI') AS end`,
    );
    return rows[0]!;
  };

  it('hold back alerts of users who set none, not of users with their own, and lift when set to null', async () => {
    await setDefault(await aroundNow());
    const a = await insertAlert(ctx.pool);
    const job = await enqueue(h.producer, a);
    await until(async () => (await job.getState()) === 'delayed', 'the job to be delayed by the default');
    expect(await alertRow(ctx.pool, a.alertId)).toMatchObject({ status: 'PENDING', attempts: 0 });

    // a user whose own quiet hours are elsewhere in the day is not held back by the default
    const own = await insertAlert(ctx.pool);
    await ctx.pool.query(
      `UPDATE users SET quiet_hours_start = ((now() AT TIME ZONE 'Europe/London')::time + interval '3 hours'),
                        quiet_hours_end   = ((now() AT TIME ZONE 'Europe/London')::time + interval '4 hours') WHERE id = $1`,
      [own.userId],
    );
    await enqueue(h.producer, own);
    expect(await waitForAlert(ctx.pool, own.alertId, finished)).toMatchObject({ status: 'SENT' });

    await setDefault(null);
    await job.promote();
    expect(await waitForAlert(ctx.pool, a.alertId, finished)).toMatchObject({ status: 'SENT', attempts: 1 });
  });
});
