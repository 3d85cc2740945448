/**
 * DNS rebinding: a push endpoint whose host answered a public address when it was
 * registered and answers a loopback one when the worker sends. The sender resolves through
 * its own lookup and checks the address it is about to connect to, so the send is refused
 * for good, the subscription retired with the reason, and a real listener at that loopback
 * address and port 443 sees no connection at all.
 */
import { createECDH, randomBytes, randomInt } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import net from 'node:net';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../src/accounts/sessions.js';
import { saveSubscription } from '../../src/watches/push-subscriptions.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { useTestApp } from '../helpers/app.js';
import { enqueue, finished, insertAlert, startHarness, testConfig, waitForAlert, type Harness } from './fixtures.js';

const HOST = 'push.rebinding.test';
const PUBLIC: LookupAddress = { address: '93.184.215.14', family: 4 };
// a loopback address of its own (all of 127/8 is loopback), so port 443 is free to listen on
const loopback = `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(1, 255)}`;

let answer: LookupAddress = PUBLIC;
const lookups: string[] = [];
const lookupHost = async (host: string): Promise<LookupAddress[]> => {
  lookups.push(host);
  if (host !== HOST) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return [answer];
};

const vapid = webpush.generateVAPIDKeys();
const t = useTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey }, { lookupHost });
let listener: net.Server;
let connections = 0;
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  listener = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(443, loopback, resolve);
  });
  smtp = await startSmtpReceiver();
  h = await startHarness(testConfig(t.ctx, { SMTP_URL: smtp.url, VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey }), { lookupHost });
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
  await new Promise((resolve) => listener?.close(resolve));
});

function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

const subscriptionRow = async (id: string) =>
  (await t.ctx.pool.query<{ is_active: boolean; failure_reason: string | null }>(`SELECT is_active, failure_reason FROM push_subscriptions WHERE id = $1`, [id])).rows[0]!;

/** That the listener does count a connection made to it: its silence below means something. */
async function expectListenerCounts(): Promise<void> {
  const before = connections;
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(443, loopback, () => s.end());
    s.on('close', () => resolve());
    s.on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 50));
  expect(connections).toBe(before + 1);
  connections = before;
}

describe('a push endpoint host that resolves elsewhere at send time', () => {
  it('is refused at send time, before any connection, and the subscription is retired with the reason', async () => {
    await expectListenerCounts();
    const a = await insertAlert(t.ctx.pool, { method: 'push' });
    const { token } = await createSession(t.ctx.pool, a.userId, 1);

    answer = PUBLIC;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/me/push-subscriptions',
      headers: t.auth(token),
      payload: { endpoint: `https://${HOST}/wpush/${randomBytes(12).toString('base64url')}`, keys: browserKeys() },
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().subscription.id as string;

    answer = { address: loopback, family: 4 };
    lookups.length = 0;
    await enqueue(h.producer, a);
    const row = await waitForAlert(t.ctx.pool, a.alertId, finished);

    expect(lookups).toContain(HOST); // the sender did resolve the host itself, at send time
    expect(row).toMatchObject({ status: 'FAILED', attempts: 1 }); // no retries: it is permanent
    expect(row.last_error).toMatch(/endpoint refused: endpoint host resolves to a loopback address/);
    expect(await subscriptionRow(id)).toEqual({ is_active: false, failure_reason: `endpoint refused: endpoint host resolves to a loopback address (${loopback})` });
    expect(connections).toBe(0);
  });

  it('retires a stored endpoint whose URL itself names a loopback address, without connecting', async () => {
    const a = await insertAlert(t.ctx.pool, { method: 'push' });
    // a row written before the rule, or another way than the route
    const { id } = await saveSubscription(t.ctx.pool, a.userId, { endpoint: `https://${loopback}/wpush/x`, ...browserKeys() });
    await enqueue(h.producer, a);
    const row = await waitForAlert(t.ctx.pool, a.alertId, finished);
    expect(row).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(await subscriptionRow(id)).toEqual({ is_active: false, failure_reason: `endpoint refused: endpoint host is a loopback address (${loopback})` });
    expect(connections).toBe(0);
  });
});
