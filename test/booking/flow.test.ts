/** Hold, confirm, cancel, list, expiry and idempotency over HTTP, against the real database. */
import { describe, expect, it } from 'vitest';
import { expireDueHolds } from '../../src/booking/expire-holds.js';
import { useTestApp } from '../helpers/app.js';
import { futureSlots, invariantViolations } from './helpers.js';

const t = useTestApp();

const hold = (token: string, slotId: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: `/api/slots/${slotId}/hold`, headers: { ...t.auth(token), ...headers } });
const act = (token: string, id: string, action: 'confirm' | 'cancel') =>
  t.app.inject({ method: 'POST', url: `/api/appointments/${id}/${action}`, headers: t.auth(token) });

async function releases(slotId: string) {
  const { rows } = await t.ctx.pool.query<{ reason: string }>(`SELECT reason FROM slot_releases WHERE slot_id = $1 ORDER BY id`, [slotId]);
  return rows.map((r) => r.reason);
}

describe('booking', () => {
  it('holds, confirms and cancels, keeping slot, events, audit and releases in step', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const slot = slots[0]!;
    const u = await t.signedIn('CLIENT', { priority: 'VIP' });

    const held = await hold(u.token, slot.id);
    expect(held.statusCode).toBe(201);
    const a = held.json().appointment;
    expect(a).toMatchObject({ slotId: slot.id, status: 'HOLD', priority: 'VIP' });
    const minutes = (new Date(a.expiresAt).getTime() - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(4);
    expect(minutes).toBeLessThanOrEqual(5);

    const other = await t.signedIn();
    const taken = await hold(other.token, slot.id);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('SLOT_UNAVAILABLE');

    // someone else's appointment is not found, whatever they try
    expect((await act(other.token, a.id, 'confirm')).statusCode).toBe(404);
    expect((await act(other.token, a.id, 'cancel')).statusCode).toBe(404);

    const confirmed = await act(u.token, a.id, 'confirm');
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().appointment.status).toBe('CONFIRMED');
    expect((await act(u.token, a.id, 'confirm')).json().appointment.status).toBe('CONFIRMED'); // repeat is harmless

    const list = await t.app.inject({ method: 'GET', url: '/api/appointments', headers: t.auth(u.token) });
    expect(list.json().appointments.map((x: { id: string }) => x.id)).toEqual([a.id]);
    const theirs = await t.app.inject({ method: 'GET', url: '/api/appointments', headers: t.auth(other.token) });
    expect(theirs.json().appointments).toEqual([]);

    const cancelled = await act(u.token, a.id, 'cancel');
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().appointment.status).toBe('CANCELLED');
    const again = await act(u.token, a.id, 'cancel');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('APPOINTMENT_NOT_ACTIVE');

    const { rows: s } = await t.ctx.pool.query(`SELECT status FROM time_slots WHERE id = $1`, [slot.id]);
    expect(s[0].status).toBe('AVAILABLE');
    const { rows: events } = await t.ctx.pool.query(`SELECT event_type, actor FROM appointment_events WHERE appointment_id = $1 ORDER BY id`, [a.id]);
    expect(events).toEqual([
      { event_type: 'HOLD_PLACED', actor: 'user' },
      { event_type: 'CONFIRMED', actor: 'user' },
      { event_type: 'CANCELLED', actor: 'user' },
    ]);
    const { rows: audit } = await t.ctx.pool.query(`SELECT action FROM audit_logs WHERE entity_id = $1 ORDER BY id`, [a.id]);
    expect(audit.map((r) => r.action)).toEqual(['appointment.hold', 'appointment.confirm', 'appointment.cancel']);
    expect(await releases(slot.id)).toEqual(['created', 'cancelled']);

    // re-booking after a cancel is allowed
    expect((await hold(other.token, slot.id)).statusCode).toBe(201);
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('answers 404 for a slot that does not exist and 400 for a malformed id', async () => {
    const u = await t.signedIn();
    const missing = await hold(u.token, '00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('SLOT_NOT_FOUND');
    const bad = await hold(u.token, 'not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/params\/slotId/);
  });

  it('refuses confirm after expiresAt before the sweep ran, and a new hold takes the slot at once', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const slot = slots[0]!;
    const u = await t.signedIn();
    const a = (await hold(u.token, slot.id)).json().appointment;
    await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE id = $1`, [a.id]);

    const late = await act(u.token, a.id, 'confirm');
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('HOLD_EXPIRED');
    const { rows: still } = await t.ctx.pool.query(`SELECT status FROM appointments WHERE id = $1`, [a.id]);
    expect(still[0].status).toBe('HOLD'); // a refusal changes nothing; the sweep does the expiry

    const v = await t.signedIn();
    const taken = await hold(v.token, slot.id);
    expect(taken.statusCode).toBe(201);
    const { rows } = await t.ctx.pool.query(`SELECT status FROM appointments WHERE id = $1`, [a.id]);
    expect(rows[0].status).toBe('CANCELLED');
    const { rows: ev } = await t.ctx.pool.query(`SELECT event_type FROM appointment_events WHERE appointment_id = $1 ORDER BY id`, [a.id]);
    expect(ev.map((r) => r.event_type)).toEqual(['HOLD_PLACED', 'HOLD_EXPIRED']);
    expect(await releases(slot.id)).toEqual(['created']); // passed straight to the new hold
    expect((await act(u.token, a.id, 'confirm')).json().error.code).toBe('HOLD_EXPIRED');
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('sweeps expired holds in batches, releasing their slots with reason hold_expired', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 5);
    const ids: string[] = [];
    for (const slot of slots) {
      const u = await t.signedIn();
      ids.push((await hold(u.token, slot.id)).json().appointment.id);
    }
    await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[]) AND id <> $2`, [ids, ids[4]]);
    expect(await expireDueHolds(t.ctx.pool, 2)).toBe(4);
    expect(await expireDueHolds(t.ctx.pool, 2)).toBe(0);
    const { rows } = await t.ctx.pool.query(`SELECT status, count(*)::int AS n FROM time_slots WHERE id = ANY($1::uuid[]) GROUP BY status ORDER BY status`, [slots.map((s) => s.id)]);
    expect(rows).toEqual([{ status: 'AVAILABLE', n: 4 }, { status: 'HOLD', n: 1 }]);
    for (const slot of slots.slice(0, 4)) expect(await releases(slot.id)).toEqual(['created', 'hold_expired']);
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('lets a user hold one slot at a time, releasing their own expired hold', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 2);
    const u = await t.signedIn();
    const first = (await hold(u.token, slots[0]!.id)).json().appointment;
    const second = await hold(u.token, slots[1]!.id);
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('ALREADY_HOLDING');
    await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE id = $1`, [first.id]);
    expect((await hold(u.token, slots[1]!.id)).statusCode).toBe(201);
    expect(await releases(slots[0]!.id)).toEqual(['created', 'hold_expired']);
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('replays the first answer for a repeated Idempotency-Key and refuses the key on another slot', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 2);
    const u = await t.signedIn();
    const key = { 'idempotency-key': 'k-' + Date.now() };
    const [one, two] = await Promise.all([hold(u.token, slots[0]!.id, key), hold(u.token, slots[0]!.id, key)]);
    expect([one.statusCode, two.statusCode]).toEqual([201, 201]);
    expect(one.json()).toEqual(two.json());
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM appointments WHERE user_id = $1`, [u.id]);
    expect(rows[0].n).toBe(1);
    const reused = await hold(u.token, slots[1]!.id, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const badKey = await hold(u.token, slots[1]!.id, { 'idempotency-key': 'spaces are not allowed' });
    expect(badKey.statusCode).toBe(400);
  });

  it('reads the hold length from system_config', async () => {
    await t.ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ('hold_minutes', '2') ON CONFLICT (key) DO UPDATE SET value = '2'`);
    try {
      const { slots } = await futureSlots(t.ctx.pool, 1);
      const u = await t.signedIn();
      const a = (await hold(u.token, slots[0]!.id)).json().appointment;
      const minutes = (new Date(a.expiresAt).getTime() - Date.now()) / 60_000;
      expect(minutes).toBeGreaterThan(1);
      expect(minutes).toBeLessThanOrEqual(2);
    } finally {
      await t.ctx.pool.query(`DELETE FROM system_config WHERE key = 'hold_minutes'`);
    }
  });

  it('refuses to hold a slot that has started', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    await t.ctx.pool.query(`UPDATE time_slots SET start_time = now() - interval '10 minutes', end_time = now() + interval '40 minutes' WHERE id = $1`, [slots[0]!.id]);
    const u = await t.signedIn();
    const res = await hold(u.token, slots[0]!.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('SLOT_UNAVAILABLE');
  });

  it('refuses a taken slot at once, without waiting for a row lock another transaction holds on it', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const slot = slots[0]!;
    const holder = await t.signedIn();
    expect((await hold(holder.token, slot.id)).statusCode).toBe(201);
    // a transaction that keeps the slot row locked (as a confirm in flight does) until released
    const locker = await t.ctx.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM time_slots WHERE id = $1 FOR UPDATE', [slot.id]);
      const other = await t.signedIn();
      let timer: NodeJS.Timeout | undefined;
      const answered = await Promise.race([
        hold(other.token, slot.id),
        new Promise<'blocked'>((resolve) => (timer = setTimeout(() => resolve('blocked'), 10_000))),
      ]);
      clearTimeout(timer);
      // a request that waited for the lock would still be waiting when the lock is let go
      expect(answered === 'blocked' ? 'blocked on the row lock' : answered.statusCode).toBe(409);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
  });
});
