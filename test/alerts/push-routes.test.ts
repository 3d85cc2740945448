/** The push subscription routes and the VAPID public key route, through the HTTP app. */
import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

const vapid = webpush.generateVAPIDKeys();
const t = useTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey });

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
