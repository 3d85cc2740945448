/** URGENT users' alerts go out first, then VIP, then NORMAL, through both queues. */
import { afterAll, describe, expect, it } from 'vitest';
import { useTestContext } from '../helpers/context.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { enqueue, insertAlert, startHarness, testConfig, type Harness } from './fixtures.js';
import { closeQueues, createQueues } from '../../src/queues/queues.js';
import { createRedis } from '../../src/queues/redis.js';

const ctx = useTestContext();
let smtp: SmtpReceiver | undefined;
let h: Harness | undefined;

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

describe('delivery order', () => {
  it('serves URGENT before VIP before NORMAL when they wait together', async () => {
    smtp = await startSmtpReceiver();
    const config = testConfig(ctx, { SMTP_URL: smtp.url, DELIVERY_CONCURRENCY: '1' });
    const normal = await Promise.all([1, 2, 3].map(() => insertAlert(ctx.pool, { priority: 'NORMAL' })));
    const vip = await insertAlert(ctx.pool, { priority: 'VIP' });
    const urgent = await insertAlert(ctx.pool, { priority: 'URGENT' });
    // queued while no worker runs, in the worst order
    const redis = createRedis(config.REDIS_URL, 'producer');
    const producer = createQueues(redis, config.QUEUE_PREFIX);
    for (const a of normal) await enqueue(producer, a, 'NORMAL');
    await enqueue(producer, vip, 'VIP');
    await enqueue(producer, urgent, 'URGENT');
    await closeQueues(producer);
    redis.disconnect();

    h = await startHarness(config);
    await smtp.waitForCount(5);
    const order = smtp.messages.map((m) => m.envelopeTo[0]);
    expect(order[0]).toBe(urgent.email);
    expect(order[1]).toBe(vip.email);
    expect(new Set(order.slice(2))).toEqual(new Set(normal.map((a) => a.email)));
  });
});
