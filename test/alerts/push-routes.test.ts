/** The push subscription routes and the VAPID public key route, through the HTTP app. */
import { createECDH, randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { MAX_SUBSCRIPTIONS_PER_USER, saveSubscription } from '../../src/watches/push-subscriptions.js';
import { systemLookup } from '../../src/watches/push-endpoints.js';
import { useTestApp } from '../helpers/app.js';

const vapid = webpush.generateVAPIDKeys();
// this machine has no DNS: the names these tests use resolve here, `localhost` as the system says
const names: Record<string, LookupAddress[]> = {
  'push.example.net': [{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }],
  'rebound.example.net': [{ address: '127.0.0.1', family: 4 }],
  'split.example.net': [{ address: '93.184.215.14', family: 4 }, { address: '10.1.2.3', family: 4 }],
  'mapped.example.net': [{ address: '::ffff:169.254.169.254', family: 6 }],
  'nat64.example.net': [{ address: '64:ff9b::a00:1', family: 6 }],
};
const lookupHost = async (host: string): Promise<LookupAddress[]> => {
  if (host === 'localhost') return systemLookup(host);
  const found = names[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};
const t = useTestApp(
  { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_SUBSCRIBE_LIMIT_PER_MINUTE: 1000, PUSH_SUBSCRIBE_LIMIT_PER_MINUTE_IP: 100_000 },
  { lookupHost },
);

function browserSubscription(host = 'push.example.net') {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://${host}/wpush/v2/${randomBytes(12).toString('base64url')}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

const rowsFor = async (userId: string) =>
  (await t.ctx.pool.query<{ id: string; endpoint: string; is_active: boolean }>(`SELECT id, endpoint, is_active FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at`, [userId])).rows;

describe('push routes', () => {
  it('GET /api/push/vapid-public-key gives the configured key, no login needed', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/push/vapid-public-key' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ publicKey: vapid.publicKey });
  });

  it('POST /api/me/push-subscriptions saves what a browser sends; the same endpoint again updates it', async () => {
    const user = await t.signedIn();
    const sub = browserSubscription();
    const first = await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: { ...t.auth(user.token), 'user-agent': 'Firefox' }, payload: sub });
    expect(first.statusCode).toBe(201);
    const id = first.json().subscription.id as string;
    const again = await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(user.token), payload: { ...sub, keys: browserSubscription().keys } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ subscription: { id } });
    expect(await rowsFor(user.id)).toEqual([{ id, endpoint: sub.endpoint, is_active: true }]);
  });

  it('refuses bad subscriptions with a 400 that says why, and saves nothing', async () => {
    const user = await t.signedIn();
    const good = browserSubscription();
    const cases: [unknown, string, RegExp][] = [
      [{ ...good, endpoint: 'http://push.example.net/x/1234' }, 'INVALID_SUBSCRIPTION', /https/],
      [{ ...good, endpoint: 'not a url at all' }, 'INVALID_SUBSCRIPTION', /URL/],
      [{ ...good, keys: { ...good.keys, p256dh: 'A'.repeat(40) } }, 'INVALID_SUBSCRIPTION', /p256dh/],
      [{ ...good, keys: { ...good.keys, auth: 'B'.repeat(30) } }, 'INVALID_SUBSCRIPTION', /auth/],
      [{ ...good, keys: { p256dh: good.keys.p256dh } }, 'VALIDATION_ERROR', /auth/],
      [{ ...good, extra: 1 }, 'VALIDATION_ERROR', /extra/],
      [{ endpoint: 5 }, 'VALIDATION_ERROR', /endpoint|keys/],
    ];
    for (const [payload, code, message] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(user.token), payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe(code);
      expect(res.json().error.message).toMatch(message);
    }
    expect(await rowsFor(user.id)).toEqual([]);
  });

  it('refuses an endpoint that would reach anything but a public push service, each with a 400 naming why, and saves nothing', async () => {
    const user = await t.signedIn();
    const { keys } = browserSubscription();
    const cases: [string, RegExp][] = [
      ['https://127.0.0.1:6379/', /port \(443\)/],
      ['https://127.0.0.1/', /loopback address \(127\.0\.0\.1\)/],
      ['https://169.254.169.254/latest/meta-data/', /link-local address \(169\.254\.169\.254\)/],
      ['https://localhost:5432/x', /port \(443\)/],
      ['https://localhost/x', /^endpoint host resolves to a loopback address$/],
      ['https://localhost./x', /^endpoint host resolves to a loopback address$/],
      ['https://10.0.0.1/admin', /private address \(10\.0\.0\.1\)/],
      ['https://[::1]:3999/api/x', /port \(443\)/],
      ['https://[::1]/api/x', /loopback address \(::1\)/],
      ['https://user:pw@internal.svc.cluster.local/x', /user name or password/],
      ['https://[::ffff:127.0.0.1]/x', /loopback address/],
      ['https://[::ffff:a9fe:a9fe]/x', /link-local address/],
      ['https://[64:ff9b::c0a8:1]/x', /private address/],
      ['https://[fd00::1]/x', /unique-local address/],
      ['https://[fe80::1]/x', /link-local address/],
      ['https://2130706433/x', /loopback address \(127\.0\.0\.1\)/],
      ['https://0x7f.1/x', /loopback address \(127\.0\.0\.1\)/],
      ['https://0177.0.0.1/x', /loopback address \(127\.0\.0\.1\)/],
      ['https://100.64.0.1/x', /CGNAT/],
      ['https://0.0.0.0/x', /unspecified address/],
      ['https://255.255.255.255/x', /broadcast address/],
      ['https://224.0.0.1/x', /multicast address/],
      ['https://rebound.example.net/x', /^endpoint host resolves to a loopback address$/],
      ['https://split.example.net/x', /^endpoint host resolves to a private address$/],
      ['https://mapped.example.net/x', /resolves to a link-local address/],
      ['https://nat64.example.net/x', /resolves to a private address/],
      ['https://nowhere.example.net/x', /does not resolve/],
      ['http://push.example.net/x', /https/],
      ['https://push.example.net:8443/x', /port \(443\)/],
    ];
    for (const [endpoint, message] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(user.token), payload: { endpoint, keys } });
      expect(res.statusCode, endpoint).toBe(400);
      expect(res.json().error.code, endpoint).toBe('INVALID_SUBSCRIPTION');
      expect(res.json().error.message, endpoint).toMatch(message);
      expect(res.json().error.message, endpoint).not.toContain('pw'); // the credentials are not echoed
    }
    expect(await rowsFor(user.id)).toEqual([]);
    // the same forms on port 443 at a public address are fine, with the port written out or not
    for (const endpoint of ['https://push.example.net:443/ok', 'https://93.184.215.14/ok', 'https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/ok']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(user.token), payload: { endpoint, keys } });
      expect(res.statusCode, endpoint).toBe(201);
    }
  });

  it(`keeps at most ${MAX_SUBSCRIPTIONS_PER_USER} per user: a new one replaces a switched-off one first, then the oldest`, async () => {
    const user = await t.signedIn();
    const save = (sub: ReturnType<typeof browserSubscription>) =>
      t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(user.token), payload: sub });
    const subs = Array.from({ length: MAX_SUBSCRIPTIONS_PER_USER }, () => browserSubscription());
    for (const sub of subs) expect((await save(sub)).statusCode).toBe(201);
    // the third is switched off (its push service said it is gone)
    await t.ctx.pool.query(`UPDATE push_subscriptions SET is_active = false WHERE endpoint = $1`, [subs[2]!.endpoint]);

    const eleventh = browserSubscription();
    expect((await save(eleventh)).statusCode).toBe(201);
    let endpoints = (await rowsFor(user.id)).map((r) => r.endpoint);
    expect(endpoints).toHaveLength(MAX_SUBSCRIPTIONS_PER_USER);
    expect(endpoints).not.toContain(subs[2]!.endpoint);
    expect(endpoints).toContain(subs[0]!.endpoint);

    const twelfth = browserSubscription();
    expect((await save(twelfth)).statusCode).toBe(201);
    endpoints = (await rowsFor(user.id)).map((r) => r.endpoint);
    expect(endpoints).toHaveLength(MAX_SUBSCRIPTIONS_PER_USER);
    expect(endpoints).not.toContain(subs[0]!.endpoint); // the oldest live one
    expect(endpoints).toEqual(expect.arrayContaining([subs[1]!.endpoint, eleventh.endpoint, twelfth.endpoint]));

    // the same endpoint again is an update, not one more
    expect((await save({ ...subs[1]!, keys: browserSubscription().keys })).statusCode).toBe(200);
    expect(await rowsFor(user.id)).toHaveLength(MAX_SUBSCRIPTIONS_PER_USER);
  });

  it('holds the cap under concurrent sign-ups from many browsers at once', async () => {
    const user = await t.signedIn();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(user.token), payload: browserSubscription() })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(30).fill(201));
    expect(await rowsFor(user.id)).toHaveLength(MAX_SUBSCRIPTIONS_PER_USER);
    // and straight at the table, as many at once as the pool has connections
    const other = await t.signedIn();
    await Promise.all(
      Array.from({ length: 40 }, () => {
        const s = browserSubscription();
        return saveSubscription(t.ctx.pool, other.id, { endpoint: s.endpoint, p256dh: s.keys.p256dh, auth: s.keys.auth });
      }),
    );
    expect(await rowsFor(other.id)).toHaveLength(MAX_SUBSCRIPTIONS_PER_USER);
  });

  it('needs a signed-in user', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', payload: browserSubscription() });
    expect(res.statusCode).toBe(401);
  });

  it('DELETE removes only the caller\'s own subscription, by id or by endpoint; someone else\'s is a 404', async () => {
    const alice = await t.signedIn();
    const bob = await t.signedIn();
    const a1 = browserSubscription();
    const a2 = browserSubscription();
    const b1 = browserSubscription();
    const id1 = (await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(alice.token), payload: a1 })).json().subscription.id as string;
    await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(alice.token), payload: a2 });
    const idB = (await t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(bob.token), payload: b1 })).json().subscription.id as string;

    const notHers = await t.app.inject({ method: 'DELETE', url: `/api/me/push-subscriptions/${idB}`, headers: t.auth(alice.token) });
    expect(notHers.statusCode).toBe(404);
    expect(notHers.json().error.code).toBe('NOT_FOUND');
    expect((await t.app.inject({ method: 'DELETE', url: `/api/me/push-subscriptions/${id1}`, headers: t.auth(alice.token) })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/me/push-subscriptions/${id1}`, headers: t.auth(alice.token) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/me/push-subscriptions', headers: t.auth(alice.token), payload: { endpoint: a2.endpoint } })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/me/push-subscriptions/not-a-uuid', headers: t.auth(alice.token) })).statusCode).toBe(400);
    expect(await rowsFor(alice.id)).toEqual([]);
    expect((await rowsFor(bob.id)).map((r) => r.id)).toEqual([idB]);
  });
});
