/**
 * Messages, not alerts, are what a learner receives: a burst gives one message at once and
 * one digest with the rest; a slot taken meanwhile is left out; two worker processes never
 * send one learner two digests for a burst; the daily cap holds across processes and ends
 * at London midnight; a slot that comes back alerts again, but not within
 * realert_after_minutes. Real worker processes, the real SMTP receiver.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertUser, insertWatch } from '../helpers/factories.js';
import { startProcess, stopProcess, type RunningProcess } from '../helpers/processes.js';
import { until } from './fixtures.js';

const ctx = useTestContext();
let smtp: SmtpReceiver;
let workers: RunningProcess[] = [];

beforeAll(async () => {
  smtp = await startSmtpReceiver();
});
afterEach(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  workers = [];
});
afterAll(async () => {
  await smtp?.close();
});

/** `n` real worker processes (every task: matching, delivery, sweeps). */
async function startWorkers(n: number): Promise<void> {
  workers = Array.from({ length: n }, () =>
    startProcess('workers/worker.ts', ctx, { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://slotwatch.test', RELEASE_POLL_SECONDS: '1', DELIVERY_BACKOFF_MS: '20' }),
  );
  await Promise.all(workers.map((w) => w.waitForLog('worker started')));
}

async function setting(key: string, value: number): Promise<void> {
  await ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [key, JSON.stringify(value)]);
}

let placed = 0;

/** A learner with one email watch around a centre of their own, 30 miles from any other. */
async function learner(o: { cap?: number } = {}) {
  const user = await insertUser(ctx.pool);
  if (o.cap) await ctx.pool.query(`UPDATE users SET alert_daily_cap = $2 WHERE id = $1`, [user.id, o.cap]);
  const latitude = 50.2 + 0.45 * placed++;
  const centre = await insertCenter(ctx.pool, { latitude, longitude: -1.5 });
  await insertWatch(ctx.pool, { userId: user.id, latitude, longitude: -1.5, radiusMiles: 5 });
  return { ...user, centreId: centre.id };
}

/** `n` free slots at the centre, released together (one transaction, so one batch for the matcher). */
async function release(centreId: string, n: number, firstHour = 0): Promise<string[]> {
  const { rows } = await ctx.pool.query<{ id: string }>(
    `INSERT INTO time_slots (center_id, test_type, start_time, end_time)
     SELECT $1, 'practical', timestamptz '2031-03-01 08:00Z' + (g * interval '1 hour'), timestamptz '2031-03-01 08:57Z' + (g * interval '1 hour')
       FROM generate_series($3::int, $3::int + $2::int - 1) g
     RETURNING id`,
    [centreId, n, firstHour],
  );
  return rows.map((r) => r.id);
}

const mailsTo = (email: string) => smtp.messages.filter((m) => m.envelopeTo.includes(email));
const slotIdsIn = (text: string) => [...text.matchAll(/\/slots\/([0-9a-f-]{36})/g)].map((m) => m[1]!);

async function alertCounts(userId: string): Promise<Record<string, number>> {
  const { rows } = await ctx.pool.query<{ status: string; n: number }>(`SELECT status::text, count(*)::int AS n FROM user_alerts WHERE user_id = $1 GROUP BY 1`, [userId]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function settled(userId: string): Promise<void> {
  await until(async () => {
    const { rows } = await ctx.pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM user_alerts WHERE user_id = $1 AND status IN ('PENDING', 'SENDING'))
            + (SELECT count(*) FROM alert_messages WHERE user_id = $1 AND status IN ('PENDING', 'SENDING'))
            + (SELECT count(*) FROM slot_releases WHERE processed_at IS NULL) AS n`,
      [userId],
    );
    return Number(rows[0]!.n) === 0;
  }, 'every alert and message to finish');
}

describe('a burst', () => {
  it('of 20 slots near one learner gives one message at once and one digest with the rest, soonest first', async () => {
    // long enough that every alert of the burst is routed before the digest goes, even on a busy machine
    await setting('alert_digest_seconds', 6);
    const l = await learner();
    await startWorkers(2);
    const slots = await release(l.centreId, 20);
    await until(() => mailsTo(l.email).length >= 2, 'two messages');
    await settled(l.id);
    const mails = mailsTo(l.email);
    expect(mails).toHaveLength(2);
    const [first, digest] = mails;
    expect(slotIdsIn(first!.parsed.text ?? '')).toHaveLength(1);
    const listed = slotIdsIn(digest!.parsed.text ?? '');
    // ten listed, soonest first, and the other nine behind a link
    expect(listed).toHaveLength(10);
    const rest = slots.filter((s) => s !== slotIdsIn(first!.parsed.text ?? '')[0]);
    expect(listed).toEqual(rest.slice(0, 10));
    expect(digest!.parsed.text).toContain('And 9 more: https://slotwatch.test/alerts');
    expect(digest!.parsed.subject).toBe('19 test slots free near you');
    expect(String(digest!.parsed.messageId)).toMatch(/^<digest-[0-9a-f-]{36}@/);
    expect(first!.parsed.text).toContain('https://slotwatch.test/alerts');
    expect(await alertCounts(l.id)).toEqual({ SENT: 1, DIGESTED: 19 });
    const { rows } = await ctx.pool.query(`SELECT kind, status, count(*)::int AS n FROM alert_messages WHERE user_id = $1 GROUP BY 1, 2 ORDER BY 1`, [l.id]);
    expect(rows).toEqual([
      { kind: 'digest', status: 'SENT', n: 1 },
      { kind: 'single', status: 'SENT', n: 1 },
    ]);
  });

  it('leaves out of the digest a slot taken before it goes, and sends no digest whose slots are all gone', async () => {
    await setting('alert_digest_seconds', 6);
    const l = await learner();
    const other = await learner();
    await startWorkers(1);
    await release(l.centreId, 3);
    await release(other.centreId, 2);
    // wait for the digests to be opened, then take one slot of the first and every slot of the second
    const digested = async (userId: string) =>
      (await ctx.pool.query<{ slot_id: string }>(`SELECT slot_id FROM user_alerts WHERE user_id = $1 AND status = 'DIGESTED' ORDER BY slot_id`, [userId])).rows;
    await until(async () => (await digested(l.id)).length === 2 && (await digested(other.id)).length === 1, 'the digests to be opened');
    const [taken, kept] = (await digested(l.id)).map((r) => r.slot_id);
    const takenOther = (await digested(other.id))[0]!.slot_id;
    await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = ANY($1::uuid[])`, [[taken, takenOther]]);
    await settled(l.id);
    await settled(other.id);
    const mails = mailsTo(l.email);
    expect(mails).toHaveLength(2);
    expect(slotIdsIn(mails[1]!.parsed.text ?? '')).toEqual([kept]);
    expect(await alertCounts(l.id)).toEqual({ SENT: 1, DIGESTED: 1, SKIPPED: 1 });
    expect(mailsTo(other.email)).toHaveLength(1);
    const { rows } = await ctx.pool.query(`SELECT status FROM alert_messages WHERE user_id = $1 AND kind = 'digest'`, [other.id]);
    expect(rows).toEqual([{ status: 'SKIPPED' }]);
  });

  it('sent by two worker processes reaches each learner as at most one message and one digest', async () => {
    // long enough for every round below to be matched inside the window, even on a busy machine
    await setting('alert_digest_seconds', 6);
    const learners = await Promise.all(Array.from({ length: 5 }, () => learner()));
    await startWorkers(2);
    // each learner's slots released in several transactions, so several batches race
    for (let round = 0; round < 4; round++) for (const l of learners) await release(l.centreId, 3, round * 3);
    for (const l of learners) await settled(l.id);
    for (const l of learners) {
      const mails = mailsTo(l.email);
      expect(mails).toHaveLength(2);
      const told = mails.flatMap((m) => slotIdsIn(m.parsed.text ?? ''));
      expect(new Set(told).size).toBe(told.length); // no slot twice
      expect(told).toHaveLength(11); // 1 at once, 10 listed of the 11 in the digest
      expect(await alertCounts(l.id)).toEqual({ SENT: 1, DIGESTED: 11 });
    }
  });
});

describe('the daily cap', () => {
  it('is honoured across two worker processes, says so in the message that reaches it, and ends at London midnight', async () => {
    await setting('alert_digest_seconds', 0); // every alert its own message, so the cap is what stops them
    const l = await learner({ cap: 3 });
    await startWorkers(2);
    await release(l.centreId, 8);
    await settled(l.id);
    expect(mailsTo(l.email)).toHaveLength(3);
    expect(await alertCounts(l.id)).toEqual({ SENT: 3, CAPPED: 5 });
    const capNotes = mailsTo(l.email).filter((m) => (m.parsed.text ?? '').includes('reached your daily limit'));
    expect(capNotes).toHaveLength(1);
    expect(capNotes[0]!.parsed.text).toContain('https://slotwatch.test/alerts#free');

    // the clock moved to the next London day: yesterday's messages no longer count
    await ctx.pool.query(
      `UPDATE alert_messages SET created_at = ((now() AT TIME ZONE 'Europe/London')::date - 1 + time '23:59') AT TIME ZONE 'Europe/London',
              sent_at = ((now() AT TIME ZONE 'Europe/London')::date - 1 + time '23:59') AT TIME ZONE 'Europe/London'
        WHERE user_id = $1`,
      [l.id],
    );
    await release(l.centreId, 2, 20);
    await settled(l.id);
    expect(mailsTo(l.email)).toHaveLength(5);
    expect(await alertCounts(l.id)).toEqual({ SENT: 5, CAPPED: 5 });
  });
});

describe('a slot that comes back', () => {
  it('alerts its learners again, but not within realert_after_minutes, and flapping gives at most 2 messages', async () => {
    await setting('alert_digest_seconds', 1);
    const l = await learner();
    await startWorkers(1);
    const [slot] = await release(l.centreId, 1);
    await until(() => mailsTo(l.email).length === 1, 'the first alert');
    // taken and released 50 times within the window: no new alert
    for (let i = 0; i < 50; i++) {
      await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = $1`, [slot]);
      await ctx.pool.query(`UPDATE time_slots SET status = 'AVAILABLE' WHERE id = $1`, [slot]);
    }
    await until(async () => {
      const { rows } = await ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM slot_releases WHERE processed_at IS NULL`);
      return rows[0]!.n === 0;
    }, 'every release to be matched');
    await settled(l.id);
    expect(mailsTo(l.email).length).toBeLessThanOrEqual(2);
    expect(await alertCounts(l.id)).toEqual({ SENT: 1 });

    // the window passed (the first alert moved back in time): the next release alerts again
    await ctx.pool.query(`UPDATE user_alerts SET created_at = created_at - interval '31 minutes' WHERE user_id = $1`, [l.id]);
    await ctx.pool.query(`UPDATE alert_messages SET created_at = created_at - interval '31 minutes', sent_at = sent_at - interval '31 minutes' WHERE user_id = $1`, [l.id]);
    await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = $1`, [slot]);
    await ctx.pool.query(`UPDATE time_slots SET status = 'AVAILABLE' WHERE id = $1`, [slot]);
    await until(() => mailsTo(l.email).length === 2, 'the second alert');
    await settled(l.id);
    const { rows } = await ctx.pool.query<{ n: number; releases: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT release_id)::int AS releases FROM user_alerts WHERE user_id = $1`,
      [l.id],
    );
    expect(rows[0]).toEqual({ n: 2, releases: 2 });
    expect(slotIdsIn(mailsTo(l.email)[1]!.parsed.text ?? '')).toEqual([slot]);
  });
});
