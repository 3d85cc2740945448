/** The push subscription route's rate limit: per user and per client address, a minute's requests. */
import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { resolveAsPublic, useTestApp } from '../helpers/app.js';

const vapid = webpush.generateVAPIDKeys();
const t = useTestApp(
  { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_SUBSCRIBE_LIMIT_PER_MINUTE: 3, PUSH_SUBSCRIBE_LIMIT_PER_MINUTE_IP: 5 },
  { lookupHost: resolveAsPublic },
);

function browserSubscription() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://push.example.net/wpush/v2/${randomBytes(12).toString('base64url')}`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

const subscribe = (token: string, remoteAddress: string) =>
  t.app.inject({ method: 'POST', url: '/api/me/push-subscriptions', headers: t.auth(token), remoteAddress, payload: browserSubscription() });

describe('POST /api/me/push-subscriptions rate limit', () => {
  it('refuses a user past PUSH_SUBSCRIBE_LIMIT_PER_MINUTE with 429 and Retry-After, whatever address they come from', async () => {
    const user = await t.signedIn();
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await subscribe(user.token, `198.51.100.${10 + i}`)).statusCode);
    expect(codes).toEqual([201, 201, 201]);
    const limited = await subscribe(user.token, '198.51.100.20');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // another user is not held up by this one
    expect((await subscribe((await t.signedIn()).token, '198.51.100.21')).statusCode).toBe(201);
  });

  it('refuses one address past PUSH_SUBSCRIBE_LIMIT_PER_MINUTE_IP, however many accounts it uses', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await subscribe((await t.signedIn()).token, '203.0.113.7')).statusCode);
    expect(codes).toEqual([201, 201, 201, 201, 201, 429]);
    expect((await subscribe((await t.signedIn()).token, '203.0.113.8')).statusCode).toBe(201);
  });
});
