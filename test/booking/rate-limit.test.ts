/** Holds are limited per user and per IP (Redis counters): 429 with Retry-After, and nothing held. */
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { futureSlots } from './helpers.js';

const t = useTestApp({ HOLD_LIMIT_PER_MINUTE: 3, HOLD_LIMIT_PER_MINUTE_IP: 5 });

describe('hold rate limits', () => {
  it('answers 429 with Retry-After past the per-user and then the per-IP limit', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 3);
    const [a, b, c] = [await t.signedIn(), await t.signedIn(), await t.signedIn()];
    const hold = (token: string, slotId: string, ip = '10.0.0.1') =>
      t.app.inject({ method: 'POST', url: `/api/slots/${slotId}/hold`, headers: t.auth(token), remoteAddress: ip });

    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await hold(a.token, slots[0]!.id)).statusCode);
    expect(codes).toEqual([201, 409, 409, 429]); // a second hold of your own slot is refused; the 4th is limited
    const limited = await hold(a.token, slots[1]!.id);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);

    // this IP has made 5 requests: b's first is its 6th
    const byIp = await hold(b.token, slots[1]!.id);
    expect(byIp.statusCode).toBe(429);
    // another address is counted on its own
    expect((await hold(c.token, slots[2]!.id, '10.0.0.2')).statusCode).toBe(201);

    const { rows } = await t.ctx.pool.query(`SELECT user_id FROM appointments WHERE slot_id = ANY($1::uuid[]) ORDER BY created_at`, [slots.map((s) => s.id)]);
    expect(rows.map((r) => r.user_id)).toEqual([a.id, c.id]);
    // counters live under the file's own prefix (nothing shared between processes' tests)
    const keys = await t.ctx.redis.keys(`${t.ctx.redisPrefix}:rl:*`);
    expect(keys.length).toBeGreaterThanOrEqual(4);
  });
});
