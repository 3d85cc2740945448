/**
 * The mail server and the push service go away for 30 s while slots are released: the SMTP
 * server stops listening (connections refused) and the push service answers every request
 * 500 (after checking and decrypting it, as the real endpoint it stands for). Learners on
 * both channels, of every tier, are each due one message. Once both come back, every
 * learner is told exactly once, and the order keeps the product's promise on priority:
 * of the jobs due when the sender takes its next one, the highest tier goes first
 * (docs/delivery.md). A job retried after a refusal is due again when its own backoff
 * ends, or sooner, when the first send its receiver accepts again wakes every retry
 * waiting on it; both are read from the worker's log. The time from the services' return
 * to the last learner told is the figure that wake exists for.
 */
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPushReceiver, type PushReceiver } from '../../dev/push-receiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { useTestContext } from '../helpers/context.js';
import { stopProcess, type RunningProcess } from '../helpers/processes.js';
import { assertDrillLogsClean } from '../helpers/log-scan.js';
import {
  emailDeliveries,
  placeLearners,
  printFigures,
  pushDeliveries,
  releaseOnePerCentre,
  startDrillProcess,
  subscribeForPush,
  tallyOf,
  waitForTally,
  waitUntilSettled,
  type Delivery,
  type DrillLearner,
  type PushLearner,
} from './kit.js';

const DRILL = 'outage-smtp-push';
const OUTAGE_MS = 30_000;
const CENTRES = 20;
const PER_CENTRE = 6; // two of each tier; one of each tier on each channel
/** BullMQ job priority of each tier (src/alerts/deliveries.ts): lower goes first. */
const RANK = { URGENT: 1, VIP: 2, NORMAL: 3 } as const;
/** Clock slack between the worker's log time and the receivers' (the same host clock). */
const SLACK_MS = 100;

const ctx = useTestContext();
const vapid = webpush.generateVAPIDKeys();
let smtp: SmtpReceiver;
let push: PushReceiver;
let worker: RunningProcess | undefined;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  push = await startPushReceiver(vapid.publicKey);
});

afterAll(async () => {
  if (worker) await stopProcess(worker);
  await push?.close();
  await smtp?.close();
});

type Tier = keyof typeof RANK;

/**
 * Messages taken while a higher tier's job was already due. With one send at a time per
 * channel, the sender took message i only after message i-1 had been accepted, so any
 * higher-tier job due by then (its last refusal's time plus its backoff) should have gone
 * before it.
 */
function priorityInversions(deliveries: Delivery[], tierOf: Map<string, Tier>, dueAt: Map<string, number>): string[] {
  const found: string[] = [];
  for (let i = 1; i < deliveries.length; i++) {
    const m = deliveries[i]!;
    const takenAfter = deliveries[i - 1]!.receivedAt;
    for (const h of deliveries.slice(i + 1)) {
      const due = dueAt.get(h.learner.id) ?? 0;
      if (RANK[tierOf.get(h.learner.id)!] < RANK[tierOf.get(m.learner.id)!] && due + SLACK_MS < takenAfter) {
        found.push(`${tierOf.get(m.learner.id)} ${m.learner.email} went before ${tierOf.get(h.learner.id)} ${h.learner.email}, due ${takenAfter - due} ms earlier`);
      }
    }
  }
  return found;
}

describe('SMTP down and push answering 500 for 30 s', () => {
  it('tells every learner once after they return, by priority among what is due', async () => {
    const { centreIds, learners } = await placeLearners(ctx.pool, { centres: CENTRES, perCentre: PER_CENTRE, tag: 'outage' });
    // by position at a centre: 0-2 (VIP, URGENT, NORMAL) by email, 3-5 the same tiers by push
    const byEmail: DrillLearner[] = learners.filter((_, i) => i % PER_CENTRE < 3);
    const byPush: PushLearner[] = await subscribeForPush(ctx.pool, push, learners.filter((_, i) => i % PER_CENTRE >= 3));
    const { rows: tiers } = await ctx.pool.query<{ id: string; priority: Tier }>(`SELECT id, priority FROM users`);
    const tierOf = new Map(tiers.map((r) => [r.id, r.priority]));

    worker = startDrillProcess(DRILL, 'worker', 'workers/worker.ts', ctx, {
      SMTP_URL: smtp.url,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      PUSH_ALLOW_LOCAL_ENDPOINTS: 'true',
      // one send at a time per channel, so that the order messages arrive in is the order
      // the sender took them, and priority can be read from it exactly
      DELIVERY_CONCURRENCY: '1',
    });
    await worker.waitForLog('worker started');

    await smtp.stop();
    push.setOutage({ status: 500 });
    const outageFrom = Date.now();
    await releaseOnePerCentre(ctx.pool, centreIds);
    // every alert has been tried and refused before the services return
    for (;;) {
      const { rows } = await ctx.pool.query<{ n: string }>(`SELECT count(*) AS n FROM user_alerts WHERE attempts > 0`);
      if (Number(rows[0]!.n) === learners.length) break;
      expect(Date.now() - outageFrom, 'every alert tried during the outage').toBeLessThan(OUTAGE_MS);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - outageFrom)));
    await smtp.start();
    push.setOutage(null);
    const recoveredAt = Date.now();

    const deliveries = () => [...emailDeliveries(smtp, byEmail), ...pushDeliveries(push, byPush)];
    const told = await waitForTally(() => tallyOf(deliveries(), learners), 120_000);
    const allToldAt = Date.now();
    expect(told.missing, 'learners never told').toEqual([]);
    await waitUntilSettled(ctx.pool, 30_000);
    const tally = tallyOf(deliveries(), learners);

    // due again at the last refusal plus its backoff, from the worker's own log
    const { rows: alerts } = await ctx.pool.query<{ id: string; user_id: string }>(`SELECT id, user_id FROM user_alerts`);
    const learnerOfAlert = new Map(alerts.map((a) => [a.id, a.user_id]));
    const dueAt = new Map<string, number>();
    const channelOf = new Map<string, 'email' | 'push'>([...byEmail.map((l) => [l.id, 'email'] as const), ...byPush.map((l) => [l.id, 'push'] as const)]);
    let refusals = 0;
    for (const l of worker.logs) {
      if (l.msg !== 'send refused for now; will retry') continue;
      refusals++;
      dueAt.set(learnerOfAlert.get(l.alertId as string)!, (l.time as number) + (l.delay as number));
    }
    // a wake makes every retry then waiting on its channel's receiver due at once (logged once all are promoted)
    const wakes = worker.logs.filter((l) => l.msg === 'a receiver accepts again: woke the retries waiting on it');
    for (const [learner, due] of dueAt) {
      const wake = wakes.find((w) => w.channel === channelOf.get(learner) && (w.time as number) < due && (w.time as number) >= recoveredAt);
      if (wake) dueAt.set(learner, wake.time as number);
    }
    const inversions = [
      ...priorityInversions(emailDeliveries(smtp, byEmail), tierOf, dueAt),
      ...priorityInversions(pushDeliveries(push, byPush), tierOf, dueAt),
    ];
    const firstTold = new Map<string, number>();
    for (const d of deliveries()) firstTold.set(d.learner.id, Math.min(firstTold.get(d.learner.id) ?? Infinity, d.receivedAt));
    const recoverySeconds = (Math.max(...firstTold.values()) - recoveredAt) / 1000;

    printFigures(DRILL, {
      'messages due': tally.due,
      told: tally.told,
      duplicated: tally.duplicates,
      'longest gap (s)': tally.longestGapSeconds,
      'outage (s)': (OUTAGE_MS / 1000).toFixed(1),
      'refused sends': refusals,
      'time to recover: service back to all told (s)': recoverySeconds.toFixed(2),
      'retries woken when a receiver came back': wakes.map((w) => `${w.channel as string} ${w.woken as number}`).join(', ') || 'none',
      'told before the service was back': [...firstTold.values()].filter((t) => t < recoveredAt).length,
      'sent while a higher tier was due': inversions.length,
      'drill wall time (s)': ((allToldAt - outageFrom) / 1000).toFixed(1),
    });
    // no address, token or key of the drill's learners in what its processes logged
    await assertDrillLogsClean(DRILL, ctx.pool, [{ label: 'VAPID private key', value: vapid.privateKey }]);

    expect(tally.told).toBe(learners.length);
    expect(tally.duplicates, 'a refused send is never delivered, so nothing is sent twice').toBe(0);
    expect([...firstTold.values()].every((t) => t >= recoveredAt), 'nothing arrived while the services were down').toBe(true);
    expect(push.delivered().every((r) => r.vapid.valid && r.payload !== null), 'every push signed and decryptable').toBe(true);
    expect(inversions, 'no message sent while a higher tier was due on its channel').toEqual([]);
    // without the wake, the last backoffs (16 to 32 s at the fifth try) ended up to 30 s after
    // the return; with it, the first backoff to end after the return (of 60 per channel) is
    // the probe, and the rest follow at once
    expect(recoverySeconds, 'learners told soon after the services returned').toBeLessThan(15);
  });
});
