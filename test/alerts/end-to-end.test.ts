/**
 * The whole loop through the public HTTP API and the real worker (every registered task):
 * an operator publishes slots, a hold expires, a confirmed booking is cancelled; every
 * matching watch gets exactly one message per slot on its own channel, counted at the
 * receivers (a real SMTP server, a real push endpoint that decrypts what it gets).
 */
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { startPushReceiver, type PushReceiver } from '../../dev/push-receiver.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { LOCAL_BASE_URL, startHarnessWithAllTasks, testConfig, until, type Harness } from './fixtures.js';

const vapid = webpush.generateVAPIDKeys();
const t = useTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_LOCAL_ENDPOINTS: true });
let smtp: SmtpReceiver;
let pushService: PushReceiver;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  pushService = await startPushReceiver(vapid.publicKey);
  h = await startHarnessWithAllTasks(
    testConfig(t.ctx, {
      SMTP_URL: smtp.url,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      PUSH_ALLOW_LOCAL_ENDPOINTS: 'true',
      PUBLIC_BASE_URL: LOCAL_BASE_URL,
      HOLD_SWEEP_SECONDS: '1',
      RELEASE_POLL_SECONDS: '1',
    }),
  );
});

afterAll(async () => {
  await h?.close();
  await pushService?.close();
  await smtp?.close();
});

type Api = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; token: string; payload?: object };
async function api({ method, url, token, payload }: Api) {
  const res = await t.app.inject({ method, url, headers: t.auth(token), ...(payload ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json();
}

const NEAR = { latitude: 51.61, longitude: -0.25 }; // about a mile from the centre
const FAR = { latitude: 53.48, longitude: -2.24 }; // Manchester

describe('end to end', () => {
  it('every matching watch gets exactly one message per released slot on its channel', async () => {
    const operator = await t.signedIn('OPERATOR');
    const { center } = await api({ method: 'POST', url: '/api/operator/centers', token: operator.token, payload: { name: 'Mill Hill', postcode: 'NW7 1AA', latitude: 51.6, longitude: -0.24 } });
    const { specialist } = await api({ method: 'POST', url: '/api/operator/specialists', token: operator.token, payload: { fullName: 'A Examiner', serviceType: 'driving examiner', centerId: center.id } });

    // learners and their watches, made through the API
    const emailLearner = await t.signedIn();
    const pushLearner = await t.signedIn();
    const farLearner = await t.signedIn();
    const theoryLearner = await t.signedIn();
    const watch = (token: string, o: { location: object; method: 'email' | 'push'; testTypes?: string[] }) =>
      api({ method: 'POST', url: '/api/me/preferences', token, payload: { location: o.location, radiusMiles: 10, method: o.method, testTypes: o.testTypes ?? ['practical'] } });
    await watch(emailLearner.token, { location: NEAR, method: 'email' });
    await watch(pushLearner.token, { location: NEAR, method: 'push' });
    await watch(farLearner.token, { location: FAR, method: 'email' });
    await watch(theoryLearner.token, { location: NEAR, method: 'email', testTypes: ['theory'] });
    const device = pushService.subscribe();
    await api({ method: 'POST', url: '/api/me/push-subscriptions', token: pushLearner.token, payload: { endpoint: device.endpoint, keys: device.keys } });

    // a short digest window, so the second slot's digest need not be waited a minute for
    await t.ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ('alert_digest_seconds', '1')`);

    // 1. the operator publishes two practical slots: one message at once, the other in a digest
    const day = Date.now() + 10 * 86_400_000;
    const slot = (k: number) => ({ specialistId: specialist.id, testType: 'practical', startTime: new Date(day + k * 3_600_000).toISOString(), endTime: new Date(day + k * 3_600_000 + 3_420_000).toISOString() });
    const { slots } = await api({ method: 'POST', url: '/api/operator/slots', token: operator.token, payload: { slots: [slot(0), slot(1)] } });
    const [s1, s2] = slots as { id: string }[];
    const emailsTo = (email: string) => smtp.messages.filter((m) => m.envelopeTo.includes(email));
    const pushesTo = () => pushService.delivered().filter((r) => r.subscriptionId === device.id);
    await until(() => emailsTo(emailLearner.email).length >= 2 && pushesTo().length >= 2, 'alerts for the two new slots');

    // 2. a late-comer watches too; a learner holds one slot and lets the hold expire, and
    //    books the other and cancels: each release reaches the late-comer alone
    const lateLearner = await t.signedIn();
    await watch(lateLearner.token, { location: NEAR, method: 'email' });
    const holder = await t.signedIn();
    const held = await api({ method: 'POST', url: `/api/slots/${s1!.id}/hold`, token: holder.token });
    await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE id = $1`, [held.appointment.id]);
    await until(() => emailsTo(lateLearner.email).length >= 1, 'the alert after the hold expired');
    const booked = await api({ method: 'POST', url: `/api/slots/${s2!.id}/hold`, token: holder.token });
    await api({ method: 'POST', url: `/api/appointments/${booked.appointment.id}/confirm`, token: holder.token });
    await api({ method: 'POST', url: `/api/appointments/${booked.appointment.id}/cancel`, token: holder.token });
    await until(() => emailsTo(lateLearner.email).length >= 2, 'the alert after the cancel');

    // every alert has finished: nothing more can arrive, so the counts are final
    await until(async () => {
      const { rows } = await t.ctx.pool.query<{ n: string }>(`SELECT count(*) AS n FROM user_alerts WHERE status IN ('PENDING', 'SENDING')`);
      return rows[0]!.n === '0';
    }, 'every alert to finish');
    await until(async () => {
      const { rows } = await t.ctx.pool.query<{ n: string }>(`SELECT count(*) AS n FROM alert_messages WHERE status IN ('PENDING', 'SENDING')`);
      return rows[0]!.n === '0';
    }, 'every digest to go');
    const { rows: messages } = await t.ctx.pool.query<{ status: string; channel: string; n: string }>(
      `SELECT status, channel, count(*) AS n FROM alert_messages GROUP BY status, channel ORDER BY channel`,
    );
    expect(messages).toEqual([
      { status: 'SENT', channel: 'email', n: '4' },
      { status: 'SENT', channel: 'push', n: '2' },
    ]);
    // six alerts, each carried by one sent message: at once (SENT) or in a digest (DIGESTED)
    const { rows: alerts } = await t.ctx.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM user_alerts a JOIN alert_messages m ON m.id = a.message_id WHERE m.status = 'SENT' AND a.status IN ('SENT', 'DIGESTED')`,
    );
    expect(alerts[0]!.n).toBe('6');

    const slotIdsIn = (texts: string[]) => texts.map((x) => /\/slots\/([0-9a-f-]{36})/.exec(x)?.[1]).sort();
    expect(slotIdsIn(emailsTo(emailLearner.email).map((m) => m.parsed.text ?? ''))).toEqual([s1!.id, s2!.id].sort());
    expect(slotIdsIn(emailsTo(lateLearner.email).map((m) => m.parsed.text ?? ''))).toEqual([s1!.id, s2!.id].sort());
    const pushedSlots = pushesTo().flatMap((r) => {
      const p = r.payload as { slotId: string | null; slotIds?: string[] };
      return p.slotId ? [p.slotId] : (p.slotIds ?? []);
    });
    expect(pushedSlots.sort()).toEqual([s1!.id, s2!.id].sort());
    expect(emailsTo(pushLearner.email)).toHaveLength(0);
    expect(emailsTo(farLearner.email)).toHaveLength(0);
    expect(emailsTo(theoryLearner.email)).toHaveLength(0);
    expect(emailsTo(holder.email)).toHaveLength(0);
    expect(smtp.messages).toHaveLength(4);
    expect(pushService.requests.every((r) => r.vapid.valid && r.payload !== null)).toBe(true);
  });
});
