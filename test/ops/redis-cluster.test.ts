/**
 * The whole loop on a Redis Cluster the test starts (three masters, one replica each):
 * the web app and a worker with every task, REDIS_URL naming the cluster's seed nodes,
 * two deliveries queues per channel. A slot is published, matching hands its alerts over,
 * the senders deliver to a real SMTP receiver and push receiver; while they deliver, the
 * master holding a deliveries queue (and the maintenance queue) is killed, its replica
 * takes over, and every learner is still told exactly once. The rate limits work on the
 * cluster too, and the poller's heartbeat comes back after the failover.
 */
import webpush from 'web-push';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { lastHeartbeat } from '../../src/queues/heartbeat.js';
import { bullPrefix } from '../../src/queues/names.js';
import { allQueues } from '../../src/queues/queues.js';
import { createRedis } from '../../src/queues/redis.js';
import { startPushReceiver, type PushReceiver } from '../../dev/push-receiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { LOCAL_BASE_URL, startHarnessWithAllTasks, testConfig, until, type Harness } from '../alerts/fixtures.js';
import { useTestApp } from '../helpers/app.js';
import { redisClusterUnavailable, startRedisCluster, type OwnRedisCluster } from '../../dev/redis-cluster.js';

const unavailable = redisClusterUnavailable();
const SHARDS = 2;
const EMAIL_LEARNERS = 60;
const PUSH_LEARNERS = 6;

const vapid = webpush.generateVAPIDKeys();
// filled in once the cluster is up, before the app (whose beforeAll runs after this file's first) reads it
const overrides: Partial<Config> = { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_LOCAL_ENDPOINTS: true, DELIVERY_SHARDS: SHARDS, REGISTER_LIMIT_PER_MINUTE_IP: 2 };
let cluster: OwnRedisCluster | undefined;
let probe: Cluster | undefined;

/** The master (port) that owns the slot of a hash tag, as the cluster says. */
async function masterOf(tag: string): Promise<number> {
  const slot = Number(await probe!.call('CLUSTER', 'KEYSLOT', tag));
  const ranges = (await probe!.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
  const range = ranges.find(([from, to]) => from <= slot && slot <= to);
  return range![2][1];
}

beforeAll(async () => {
  if (unavailable) return;
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
  probe = createRedis(cluster.url, 'worker') as Cluster;
  await probe.ping();
  // a queue prefix under which the two email queues live on different masters (hash tags
  // spread over slots by their text, and this run's prefix is random), and the maintenance
  // queue on the same master as the first email queue's, which is the one killed: the
  // maintenance worker has to come through its own queue's failover too (a BullMQ Worker
  // was seen to stop for good there now and then; the worker replaces one that stops)
  const base = `swt-cluster-${process.pid}`;
  for (let i = 0; ; i++) {
    const prefix = `${base}-${i}`;
    const [a, b, m] = await Promise.all([masterOf(`${prefix}:deliveries-email-0`), masterOf(`${prefix}:deliveries-email-1`), masterOf(`${prefix}:maintenance`)]);
    if (a !== b && m === a) {
      overrides.QUEUE_PREFIX = prefix;
      break;
    }
  }
  overrides.REDIS_URL = cluster.url;
});

const t = useTestApp(overrides);
let smtp: SmtpReceiver;
let pushService: PushReceiver;
let h: Harness;

beforeAll(async () => {
  if (unavailable) return;
  smtp = await startSmtpReceiver();
  pushService = await startPushReceiver(vapid.publicKey);
  h = await startHarnessWithAllTasks({
    ...testConfig(t.ctx, {
      REDIS_URL: cluster!.url,
      DELIVERY_SHARDS: String(SHARDS),
      SMTP_URL: smtp.url,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      PUSH_ALLOW_LOCAL_ENDPOINTS: 'true',
      PUBLIC_BASE_URL: LOCAL_BASE_URL,
      RELEASE_POLL_SECONDS: '1',
      // slow enough that the master is killed while mail is still going out: 20/s over two queues
      DELIVERY_EMAIL_PER_SECOND: '20',
    }),
    QUEUE_PREFIX: overrides.QUEUE_PREFIX!,
  });
});

afterAll(async () => {
  await h?.close();
  await pushService?.close();
  await smtp?.close();
  probe?.disconnect();
  await cluster?.close();
});

type Api = { method: 'GET' | 'POST'; url: string; token: string; payload?: object };
async function api({ method, url, token, payload }: Api) {
  const res = await t.app.inject({ method, url, headers: t.auth(token), ...(payload ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json();
}

const NEAR = { latitude: 51.61, longitude: -0.25 };

describe.skipIf(unavailable)(`on a Redis Cluster${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('delivers every alert exactly once through a master failover, with queues spread over shards', async () => {
    const started = Date.now();
    const prefix = t.config.QUEUE_PREFIX;
    expect(t.config.REDIS_URL).toMatch(/^redis-cluster:\/\//);
    expect(allQueues(t.queues).map((q) => q.name)).toEqual(['maintenance', 'deliveries-email-0', 'deliveries-email-1', 'deliveries-push-0', 'deliveries-push-1']);

    const operator = await t.signedIn('OPERATOR');
    const { center } = await api({ method: 'POST', url: '/api/operator/centers', token: operator.token, payload: { name: 'Mill Hill', postcode: 'NW7 1AA', latitude: 51.6, longitude: -0.24 } });
    const { specialist } = await api({ method: 'POST', url: '/api/operator/specialists', token: operator.token, payload: { fullName: 'A Examiner', serviceType: 'driving examiner', centerId: center.id } });
    const watch = (token: string, method: 'email' | 'push') =>
      api({ method: 'POST', url: '/api/me/preferences', token, payload: { location: NEAR, radiusMiles: 10, method, testTypes: ['practical'] } });
    const emailLearners: { email: string }[] = [];
    for (let i = 0; i < EMAIL_LEARNERS; i++) {
      const l = await t.signedIn();
      await watch(l.token, 'email');
      emailLearners.push(l);
    }
    const devices: { id: string }[] = [];
    for (let i = 0; i < PUSH_LEARNERS; i++) {
      const l = await t.signedIn();
      await watch(l.token, 'push');
      const device = pushService.subscribe();
      await api({ method: 'POST', url: '/api/me/push-subscriptions', token: l.token, payload: { endpoint: device.endpoint, keys: device.keys } });
      devices.push(device);
    }

    // the operator publishes one slot: every learner is owed one message
    const day = Date.now() + 10 * 86_400_000;
    const { slots } = await api({
      method: 'POST',
      url: '/api/operator/slots',
      token: operator.token,
      payload: { slots: [{ specialistId: specialist.id, testType: 'practical', startTime: new Date(day).toISOString(), endTime: new Date(day + 3_420_000).toISOString() }] },
    });
    const slotId = (slots as { id: string }[])[0]!.id;

    // the two email queues' keys are on two different masters
    const emailMasters = await Promise.all([0, 1].map((i) => masterOf(`${prefix}:deliveries-email-${i}`)));
    expect(new Set(emailMasters).size).toBe(2);
    await until(async () => {
      const counts = await Promise.all(
        [0, 1].map(async (i) => {
          const tag = bullPrefix(prefix, `deliveries-email-${i}`);
          const slot = Number(await probe!.call('CLUSTER', 'KEYSLOT', tag));
          const owner = probe!.nodes('master').find((n) => n.options.port === emailMasters[i])!;
          return Number(await owner.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)));
        }),
      );
      return counts.every((n) => n > 0);
    }, 'jobs on both email queues, each on its own master');

    // kill the master of the first email queue once some mail has gone, while the rest is on its way
    await until(() => smtp.messages.length >= 10, 'the first mails to go out', 20_000);
    const victimIndex = cluster!.nodes.filter((n) => n.role === 'master').findIndex((n) => n.port === emailMasters[0]);
    const sentBeforeKill = smtp.messages.length;
    const killedAt = Date.now();
    const { promotedPort } = await cluster!.killMaster(victimIndex);
    const failoverMs = Date.now() - killedAt;
    expect(sentBeforeKill).toBeLessThan(EMAIL_LEARNERS);
    expect(await masterOf(`${prefix}:deliveries-email-0`)).toBe(promotedPort);

    // every learner is told, once: a send is claimed in PostgreSQL, so a job BullMQ runs
    // again after the failover (stalled, or its completion lost) finds its alert already SENT
    const emailsTo = (email: string) => smtp.messages.filter((m) => m.envelopeTo.includes(email));
    await until(() => emailLearners.every((l) => emailsTo(l.email).length >= 1), 'every email learner told', 40_000);
    await until(() => devices.every((d) => pushService.delivered().some((r) => r.subscriptionId === d.id)), 'every push learner told', 20_000);
    await until(async () => {
      const { rows } = await t.ctx.pool.query<{ n: string }>(`SELECT count(*) AS n FROM user_alerts WHERE status IN ('PENDING', 'SENDING')`);
      return rows[0]!.n === '0';
    }, 'every alert to finish');
    const toldAt = Date.now();
    for (const l of emailLearners) {
      const mails = emailsTo(l.email);
      expect(mails, l.email).toHaveLength(1);
      expect(mails[0]!.parsed.text ?? '').toContain(slotId);
    }
    for (const d of devices) expect(pushService.delivered().filter((r) => r.subscriptionId === d.id)).toHaveLength(1);
    expect(smtp.messages).toHaveLength(EMAIL_LEARNERS);
    const { rows } = await t.ctx.pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM user_alerts GROUP BY status`);
    expect(rows).toEqual([{ status: 'SENT', n: String(EMAIL_LEARNERS + PUSH_LEARNERS) }]);

    // the poller's heartbeat is written and read on the cluster, after the failover of the
    // maintenance queue's own master too
    expect(await masterOf(`${prefix}:maintenance`)).toBe(promotedPort);
    await until(async () => ((await lastHeartbeat(t.app.deps.redis, prefix, 'poll-releases')) ?? 0) > killedAt + failoverMs, 'a heartbeat after the failover', 40_000);
    const heartbeatAt = Date.now();
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode, ready.body).toBe(200);

    // the rate limits' script runs on the cluster: the third sign-up from one address in a minute is refused
    const register = (i: number) => t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `cluster.${i}@example.com`, password: 'long enough password' } });
    expect((await register(1)).statusCode).toBe(202);
    expect((await register(2)).statusCode).toBe(202);
    expect((await register(3)).statusCode).toBe(429);

    console.error(
      `Redis Cluster: ${sentBeforeKill} of ${EMAIL_LEARNERS} mails out when master ${emailMasters[0]} was killed; replica ${promotedPort} promoted and cluster ok after ${failoverMs} ms; ` +
        `every learner told ${toldAt - killedAt} ms and a heartbeat ${heartbeatAt - killedAt} ms after the kill; whole test ${Date.now() - started} ms`,
    );
  });
});
