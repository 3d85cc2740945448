/**
 * No hoarding, over HTTP against the real database: one live booking per learner per test
 * type, and a cooldown before a learner may hold again a slot whose hold of theirs ended
 * unconfirmed. Time is moved in the database, never waited for.
 */
import { describe, expect, it } from 'vitest';
import { expireDueHolds } from '../../src/booking/expire-holds.js';
import { useTestApp } from '../helpers/app.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';
import { futureSlots, invariantViolations } from './helpers.js';

const t = useTestApp({ HOLD_LIMIT_PER_MINUTE: 10_000, HOLD_LIMIT_PER_MINUTE_IP: 100_000 });

const hold = (token: string, slotId: string) => t.app.inject({ method: 'POST', url: `/api/slots/${slotId}/hold`, headers: t.auth(token) });
const act = (token: string, id: string, action: 'confirm' | 'cancel') => t.app.inject({ method: 'POST', url: `/api/appointments/${id}/${action}`, headers: t.auth(token) });

/** Held and confirmed: the appointment's id. */
async function book(token: string, slotId: string): Promise<string> {
  const held = await hold(token, slotId);
  expect(held.statusCode).toBe(201);
  const id = held.json().appointment.id as string;
  expect((await act(token, id, 'confirm')).statusCode).toBe(200);
  return id;
}

async function setting(key: string, value: number) {
  const admin = await t.signedIn('ADMIN');
  const res = await t.app.inject({ method: 'PUT', url: `/api/admin/config/${key}`, headers: t.auth(admin.token), payload: { value } });
  expect(res.statusCode).toBe(200);
}

describe('one booking per test type', () => {
  it('a confirmed practical test refuses a second practical hold (naming it) but not a theory test; cancelling frees the learner', async () => {
    const centre = await insertCenter(t.ctx.pool, { name: 'Birmingham (Kingstanding)' });
    const start = new Date('2031-03-12T09:40:00Z'); // 09:40 in London (GMT)
    const first = await insertSlot(t.ctx.pool, { centerId: centre.id, start });
    const second = await insertSlot(t.ctx.pool, { centerId: centre.id, start: new Date('2031-03-19T09:40:00Z') });
    const theory = await insertSlot(t.ctx.pool, { centerId: centre.id, start: new Date('2031-03-13T11:00:00Z'), testType: 'theory' });
    const u = await t.signedIn();
    const booked = await book(u.token, first.id);

    // their own booked slot again: taken, and said to be theirs
    expect((await hold(u.token, first.id)).json().error).toEqual({ code: 'SLOT_UNAVAILABLE', message: 'you already hold or have booked this slot' });
    const refused = await hold(u.token, second.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toEqual({
      code: 'ALREADY_BOOKED',
      message: 'you already have a confirmed practical driving test on Wednesday 12 March 2031 at 09:40 at Birmingham (Kingstanding); cancel it first (one booking per test type at a time)',
    });
    expect(refused.headers['retry-after']).toBeUndefined();
    const { rows: none } = await t.ctx.pool.query(`SELECT 1 FROM appointments WHERE slot_id = $1`, [second.id]);
    expect(none).toEqual([]); // a refusal writes nothing

    // a theory test is another test type
    const theoryId = await book(u.token, theory.id);
    // and someone else may book the second practical slot
    const other = await t.signedIn();
    const othersHold = (await hold(other.token, second.id)).json().appointment.id;
    expect((await act(other.token, othersHold, 'cancel')).statusCode).toBe(200);

    // cancelling the practical booking frees the learner to book another practical test (no cooldown: it was confirmed)
    expect((await act(u.token, booked, 'cancel')).statusCode).toBe(200);
    await book(u.token, second.id);
    expect((await hold(u.token, first.id)).json().error.code).toBe('ALREADY_BOOKED');
    expect(theoryId).toBeDefined();
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('a test already taken no longer counts', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 2);
    const u = await t.signedIn();
    const booked = await book(u.token, slots[0]!.id);
    expect((await hold(u.token, slots[1]!.id)).json().error.code).toBe('ALREADY_BOOKED');
    // time passes: the booking was made a month ago and its test ended yesterday
    await t.ctx.pool.query(`UPDATE appointments SET created_at = now() - interval '30 days' WHERE id = $1`, [booked]);
    await t.ctx.pool.query(`UPDATE time_slots SET start_time = now() - interval '1 day', end_time = now() - interval '1 day' + interval '57 minutes' WHERE id = $1`, [slots[0]!.id]);
    expect((await hold(u.token, slots[1]!.id)).statusCode).toBe(201);
  });

  it('one learner racing to hold many practical slots at once gets exactly one', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 12);
    const u = await t.signedIn();
    // a listening server and simultaneous connections: the requests really overlap
    const address = t.app.server.listening ? `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}` : await t.app.listen({ port: 0, host: '127.0.0.1' });
    const answers = await Promise.all(
      slots.map(async (s) => {
        const res = await fetch(`${address}/api/slots/${s.id}/hold`, { method: 'POST', headers: t.auth(u.token) });
        const body = (await res.json()) as { error?: { code: string } };
        return res.status === 201 ? '201' : `${res.status} ${body.error?.code}`;
      }),
    );
    expect(answers.filter((a) => a === '201')).toHaveLength(1);
    expect(answers.filter((a) => a !== '201').every((a) => a === '409 ALREADY_HOLDING')).toBe(true);
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM appointments WHERE user_id = $1 AND status IN ('HOLD', 'CONFIRMED')`, [u.id]);
    expect(rows[0].n).toBe(1);
  });

  it('a booking committed beside a hold of the same type is caught by the database, and named', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 2);
    const u = await t.signedIn();
    // another transaction books slot 0 for the learner and has not committed: the hold's snapshot cannot see it
    const other = await t.ctx.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO appointments (user_id, slot_id, status, confirmed_at) VALUES ($1, $2, 'CONFIRMED', now())`, [u.id, slots[0]!.id]);
      const racing = hold(u.token, slots[1]!.id); // waits on the uncommitted row the constraint must check
      await new Promise((r) => setTimeout(r, 300));
      await other.query('COMMIT');
      const res = await racing;
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('ALREADY_BOOKED');
      expect(res.json().error.message).toMatch(/^you already have a confirmed practical driving test on \w+ \d+ \w+ \d{4} at \d\d:\d\d at Centre \d+; cancel it first/);
    } finally {
      other.release();
    }
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM appointments WHERE slot_id = $1`, [slots[1]!.id]);
    expect(rows[0].n).toBe(0);
    // the bare row (no slot status, no history) would fail the other tests' invariant checks
    await t.ctx.pool.query(`DELETE FROM appointments WHERE slot_id = $1`, [slots[0]!.id]);
  });
});

describe('re-hold cooldown', () => {
  it('refuses the learner whose hold expired, with Retry-After, while others may take the slot; then lets them', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 2);
    const slot = slots[0]!;
    const u = await t.signedIn();
    const a = (await hold(u.token, slot.id)).json().appointment;
    await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE id = $1`, [a.id]);
    expect(await expireDueHolds(t.ctx.pool, 10)).toBe(1);

    const again = await hold(u.token, slot.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('REHOLD_TOO_SOON');
    const wait = Number(again.headers['retry-after']);
    expect(wait).toBeGreaterThan(55);
    expect(wait).toBeLessThanOrEqual(60);
    expect(again.json().error.message).toContain(`in ${wait} s`);
    // another slot is not affected
    const elsewhere = await hold(u.token, slots[1]!.id);
    expect(elsewhere.statusCode).toBe(201);
    expect((await act(u.token, elsewhere.json().appointment.id, 'cancel')).statusCode).toBe(200);

    // 50 s later: 10 s left
    await t.ctx.pool.query(`UPDATE appointments SET cancelled_at = cancelled_at - interval '50 seconds', expires_at = expires_at - interval '50 seconds' WHERE id = $1`, [a.id]);
    const later = await hold(u.token, slot.id);
    expect(later.json().error.code).toBe('REHOLD_TOO_SOON');
    expect(Number(later.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(Number(later.headers['retry-after'])).toBeGreaterThan(5);
    // past the cooldown
    await t.ctx.pool.query(`UPDATE appointments SET cancelled_at = cancelled_at - interval '11 seconds' WHERE id = $1`, [a.id]);
    expect((await hold(u.token, slot.id)).statusCode).toBe(201);
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('others may take the slot the moment it is released', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const u = await t.signedIn();
    const a = (await hold(u.token, slots[0]!.id)).json().appointment;
    expect((await act(u.token, a.id, 'cancel')).statusCode).toBe(200);
    // a cancelled hold counts as one that lapsed: cancelling and holding again would keep the slot for ever
    expect((await hold(u.token, slots[0]!.id)).json().error.code).toBe('REHOLD_TOO_SOON');
    const other = await t.signedIn();
    expect((await hold(other.token, slots[0]!.id)).statusCode).toBe(201);
  });

  it('an unswept expired hold of their own is released to others at once, and the learner told to wait', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const slot = slots[0]!;
    const u = await t.signedIn();
    const a = (await hold(u.token, slot.id)).json().appointment;
    await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 second' WHERE id = $1`, [a.id]);

    const again = await hold(u.token, slot.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('REHOLD_TOO_SOON');
    expect(again.headers['retry-after']).toBe('60');
    const { rows } = await t.ctx.pool.query(
      `SELECT a.status AS a, s.status AS s, (SELECT array_agg(reason ORDER BY id) FROM slot_releases r WHERE r.slot_id = s.id) AS releases
         FROM appointments a JOIN time_slots s ON s.id = a.slot_id WHERE a.id = $1`,
      [a.id],
    );
    expect(rows[0]).toEqual({ a: 'CANCELLED', s: 'AVAILABLE', releases: ['created', 'hold_expired'] });
    const other = await t.signedIn();
    expect((await hold(other.token, slot.id)).statusCode).toBe(201);
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('follows rehold_cooldown_seconds as an admin sets it; 0 turns it off', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const u = await t.signedIn();
    try {
      await setting('rehold_cooldown_seconds', 5);
      const a = (await hold(u.token, slots[0]!.id)).json().appointment;
      expect((await act(u.token, a.id, 'cancel')).statusCode).toBe(200);
      const res = await hold(u.token, slots[0]!.id);
      expect(res.json().error.code).toBe('REHOLD_TOO_SOON');
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(5);

      await setting('rehold_cooldown_seconds', 0);
      expect((await hold(u.token, slots[0]!.id)).statusCode).toBe(201);
    } finally {
      await t.ctx.pool.query(`DELETE FROM system_config WHERE key = 'rehold_cooldown_seconds'`);
    }
  });
});
