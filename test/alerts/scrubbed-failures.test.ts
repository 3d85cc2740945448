/**
 * A failed send keeps no address: SMTP servers name the recipient in their refusals
 * ("550 <bob@example.com>: no such user"), and a failure's reason goes to the alert's row,
 * to BullMQ in Redis (the job's failed reason, its stack trace, the events stream) and on
 * to the admins' queue board. Real worker, real SMTP server, the board's own JSON API,
 * and every key under the file's Redis prefix read directly.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { createSession } from '../../src/accounts/sessions.js';
import { ADMIN_COOKIE } from '../../src/http/session.js';
import { useTestApp } from '../helpers/app.js';
import { insertUser } from '../helpers/factories.js';
import { enqueue, finished, insertAlert, startHarness, testConfig, until, waitForAlert, type Harness } from './fixtures.js';

const t = useTestApp();
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  h = await startHarness(testConfig(t.ctx, { SMTP_URL: smtp.url, DELIVERY_MAX_ATTEMPTS: '2' }));
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

/** Every value under the file's Redis prefix, as text: strings, hashes, lists, sets, sorted sets, streams. */
async function everythingInRedis(): Promise<string> {
  const redis = t.ctx.redis;
  const keys = await redis.keys(`{${t.config.QUEUE_PREFIX}:*`);
  const parts: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') parts.push(String(await redis.get(key)));
    else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
    else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
    else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
    else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    parts.push(key);
  }
  return parts.join('\n');
}

describe('a send refused with a reply that names the recipient', () => {
  it('leaves the address nowhere: not in the database, not in Redis, not on the queue board', async () => {
    const local = `learner-${randomBytes(5).toString('hex')}`;
    const lasting = await insertAlert(t.ctx.pool, { email: `${local}@refused.example.com` });
    const passing = await insertAlert(t.ctx.pool, { email: `${local}.busy@busy.example.com` });
    const secrets = [`${local}@refused.example.com`, `${local}.busy@busy.example.com`, local];

    smtp.setMode({ kind: 'reject-rcpt', match: /@(refused|busy)\.example\.com$/, code: 550, reply: (a) => `5.1.1 <${a}>: Recipient address rejected: no such mailbox` });
    try {
      await enqueue(h.producer, lasting);
      expect(await waitForAlert(t.ctx.pool, lasting.alertId, finished)).toMatchObject({ status: 'FAILED', attempts: 1 });
      // a passing refusal (4xx) is retried, then given up on after DELIVERY_MAX_ATTEMPTS
      smtp.setMode({ kind: 'reject-rcpt', match: /@busy\.example\.com$/, code: 450, reply: (a) => `4.2.1 <${a}>: mailbox busy, try later` });
      await enqueue(h.producer, passing);
      expect(await waitForAlert(t.ctx.pool, passing.alertId, finished)).toMatchObject({ status: 'FAILED', attempts: 2 });
      for (const a of [lasting, passing]) {
        await until(async () => (await h.worker.deps.queues.deliveries.email[0]!.getJobState(a.alertId)) === 'failed', 'the send job to fail for good');
      }
    } finally {
      smtp.setMode({ kind: 'accept' });
    }

    // the database: the reason is kept, the address is not
    const { rows } = await t.ctx.pool.query<{ id: string; last_error: string }>(
      `SELECT id, last_error FROM user_alerts WHERE id = ANY($1::uuid[])
       UNION ALL SELECT a.id, m.last_error FROM alert_messages m JOIN user_alerts a ON a.message_id = m.id WHERE a.id = ANY($1::uuid[])`,
      [[lasting.alertId, passing.alertId]],
    );
    expect(rows.find((r) => r.id === lasting.alertId)!.last_error).toMatch(/^SMTP 550: .*<\[email\]>: Recipient address rejected/);
    expect(rows.find((r) => r.id === passing.alertId)!.last_error).toMatch(/^gave up after 2 attempts: SMTP 450: .*<\[email\]>: mailbox busy/);
    for (const s of secrets) expect(JSON.stringify(rows)).not.toContain(s);

    // the queue board's API, as an admin sees it: the failed jobs and each job's page
    const admin = await insertUser(t.ctx.pool, { role: 'ADMIN' });
    const { token } = await createSession(t.ctx.pool, admin.id, 1);
    const board = async (url: string) => {
      const res = await t.app.inject({ method: 'GET', url, cookies: { [ADMIN_COOKIE]: token } });
      expect(res.statusCode, url).toBe(200);
      return res.body;
    };
    const queue = 'deliveries-email';
    const failedList = await board(`/admin/queues/api/queues?activeQueue=${queue}&status=failed&page=1&jobsPerPage=50`);
    const jobPages = [await board(`/admin/queues/api/queues/${queue}/${lasting.alertId}`), await board(`/admin/queues/api/queues/${queue}/${passing.alertId}`)];
    for (const body of [failedList, ...jobPages]) {
      expect(body).toContain('SMTP'); // the failure and its reason are there to read
      for (const s of secrets) expect(body).not.toContain(s);
    }
    expect(failedList).toContain(lasting.alertId);
    expect(failedList).toContain(passing.alertId);

    // and Redis itself, every key of this file's queues
    const redis = await everythingInRedis();
    expect(redis).toContain(lasting.alertId);
    expect(redis).toContain('SMTP 550');
    for (const s of secrets) expect(redis).not.toContain(s);
  });
});
