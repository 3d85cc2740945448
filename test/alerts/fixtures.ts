/**
 * Shared set-up for the delivery tests: a config pointing at the file's database, Redis
 * prefix and receivers; a running worker (deliveries + channel senders); alerts inserted
 * as matching would leave them and enqueued as matching would enqueue them.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { channelJobOptions, shardFor, firstChannel, PRIORITY_BY_TIER, SEND_JOB } from '../../src/alerts/deliveries.js';
import { deliveryChannelsTask } from '../../src/jobs/tasks.js';
import { log } from '../../src/log.js';
import { closeQueues, createQueues, type Queues } from '../../src/queues/queues.js';
import { createRedis } from '../../src/queues/redis.js';
import { startWorker, type RunningWorker } from '../../src/jobs/runtime.js';
import type { HostLookup } from '../../src/watches/push-endpoints.js';
import type { TestContext } from '../helpers/context.js';
import { insertCenter, insertSlot, insertUser, insertWatch } from '../helpers/factories.js';

export const BASE_URL = 'https://slotwatch.test';
/** PUBLIC_BASE_URL for a file whose push receiver is local (PUSH_ALLOW_LOCAL_ENDPOINTS refuses an https one). */
export const LOCAL_BASE_URL = 'http://slotwatch.test';

/** Config for this file: env-style values as strings, QUEUE_PREFIX set to the file's prefix. */
export function testConfig(ctx: TestContext, env: Record<string, string> = {}): Config {
  return {
    ...loadConfig({
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      PUBLIC_BASE_URL: BASE_URL,
      LOG_LEVEL: 'silent',
      DATABASE_POOL_MAX: '5',
      DELIVERY_BACKOFF_MS: '20',
      DELIVERY_MAX_ATTEMPTS: '50',
      ...env,
    }),
    QUEUE_PREFIX: ctx.redisPrefix,
  };
}

export interface Harness {
  worker: RunningWorker;
  producer: Queues;
  close(): Promise<void>;
}

/** Starts the channel senders (the deliveries queues' workers), plus a producer like matching's. */
export async function startHarness(config: Config, o: { allTasks?: boolean; lookupHost?: HostLookup } = {}): Promise<Harness> {
  log.level = config.LOG_LEVEL; // the worker logs through the root logger, as workers/worker.ts sets it
  const worker = await startWorker(config, { ...(o.allTasks ? {} : { tasks: [deliveryChannelsTask] }), lookupHost: o.lookupHost });
  const redis = createRedis(config.REDIS_URL, 'producer');
  const producer = createQueues(redis, config.QUEUE_PREFIX, config.DELIVERY_SHARDS);
  return {
    worker,
    producer,
    async close() {
      await closeQueues(producer);
      redis.disconnect();
      await worker.close();
    },
  };
}

/** Like startHarness, but with every task the worker registry lists (matching, hold expiry, ...). */
export function startHarnessWithAllTasks(config: Config): Promise<Harness> {
  return startHarness(config, { allTasks: true });
}

export interface AlertSetup {
  alertId: string;
  userId: string;
  email: string;
  slotId: string;
  watchId: string;
  method: 'email' | 'push';
  centerName: string;
  start: Date;
}

/** A user with a watch, a free slot at a named centre and a PENDING alert for them. */
export async function insertAlert(
  db: pg.Pool,
  o: { method?: 'email' | 'push'; start?: Date; priority?: keyof typeof PRIORITY_BY_TIER; email?: string; distanceM?: number; testType?: string } = {},
): Promise<AlertSetup> {
  const user = await insertUser(db, { priority: o.priority ?? 'NORMAL', ...(o.email ? { email: o.email } : {}) });
  await db.query(`UPDATE users SET first_name = 'Sam' WHERE id = $1`, [user.id]);
  const centerName = `Mill Hill ${randomUUID().slice(0, 6)}`;
  const center = await insertCenter(db, { name: centerName, postcode: 'NW7 1AA' });
  const slot = await insertSlot(db, { centerId: center.id, ...(o.start ? { start: o.start } : {}), ...(o.testType ? { testType: o.testType } : {}) });
  const method = o.method ?? 'email';
  const watch = await insertWatch(db, { userId: user.id, method });
  // the channel is the watch's method, as matching writes it
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO user_alerts (user_id, slot_id, preference_id, distance_m, channel) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [user.id, slot.id, watch.id, o.distanceM ?? 5149.9, method],
  );
  return { alertId: rows[0]!.id, userId: user.id, email: user.email, slotId: slot.id, watchId: watch.id, method, centerName, start: slot.start_time };
}

/** Enqueues the alert's job on its channel's deliveries queue, as the matching hand-off does. */
export async function enqueue(producer: Queues, alert: Pick<AlertSetup, 'alertId' | 'userId' | 'method'>, tier: keyof typeof PRIORITY_BY_TIER = 'NORMAL') {
  const queue = shardFor(producer.deliveries[firstChannel(alert.method, true)], alert.userId);
  return queue.add(SEND_JOB, { alertId: alert.alertId }, channelJobOptions(alert.alertId, PRIORITY_BY_TIER[tier]));
}

export interface AlertRow {
  status: string;
  sent: boolean;
  sent_at: Date | null;
  channel: string | null;
  attempts: number;
  last_error: string | null;
  provider_message_id: string | null;
  lease_until: Date | null;
}

export async function alertRow(db: pg.Pool, id: string): Promise<AlertRow> {
  const { rows } = await db.query<AlertRow>(`SELECT status, sent, sent_at, channel, attempts, last_error, provider_message_id, lease_until FROM user_alerts WHERE id = $1`, [id]);
  return rows[0]!;
}

/** Polls until `accept(row)` holds; fails with the last row after `timeoutMs`. */
export async function waitForAlert(db: pg.Pool, id: string, accept: (r: AlertRow) => boolean, timeoutMs = 30_000): Promise<AlertRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await alertRow(db, id);
    if (accept(row)) return row;
    if (Date.now() > deadline) throw new Error(`alert ${id} never reached the expected state; last: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const finished = (r: AlertRow) => ['SENT', 'SKIPPED', 'FAILED'].includes(r.status);

/** Polls `check` until it returns true. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
