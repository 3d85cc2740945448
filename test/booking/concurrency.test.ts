/**
 * The promise under load: never two active appointments on a slot, slot and appointment
 * states always agreeing, a taken slot a 409 (never a 5xx), every 2xx in the database and
 * every 4xx leaving nothing behind. Real concurrency: a listening server and many
 * simultaneous connections, or many in-process requests each on its own database connection.
 */
import { describe, expect, it } from 'vitest';
import { expireDueHolds } from '../../src/booking/expire-holds.js';
import { useTestApp } from '../helpers/app.js';
import { seededRandom } from '../../src/random.js';
import { futureSlots, invariantViolations } from './helpers.js';

const t = useTestApp({ HOLD_LIMIT_PER_MINUTE: 100_000, HOLD_LIMIT_PER_MINUTE_IP: 1_000_000 });

// seeded so a failing run can be replayed from its seed
const prng = seededRandom;

describe('concurrent booking', () => {
  it('200 simultaneous holds on one slot from 200 users: one 201, 199 × 409, no 5xx', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 1);
    const slot = slots[0]!;
    const users: { id: string; email: string; token: string }[] = [];
    for (let i = 0; i < 200; i++) users.push(await t.signedIn());
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });

    const statuses = await Promise.all(
      users.map(async (u) => {
        const res = await fetch(`${address}/api/slots/${slot.id}/hold`, { method: 'POST', headers: t.auth(u.token) });
        const body = (await res.json()) as { error?: { code: string } };
        return res.status === 409 ? `409 ${body.error?.code}` : String(res.status);
      }),
    );
    const counts: Record<string, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    expect(counts).toEqual({ '201': 1, '409 SLOT_UNAVAILABLE': 199 });

    const { rows } = await t.ctx.pool.query(`SELECT status FROM appointments WHERE slot_id = $1`, [slot.id]);
    expect(rows).toEqual([{ status: 'HOLD' }]);
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
  });

  it('2,400 random concurrent hold/confirm/cancel/expire operations keep every invariant', async () => {
    const seed = Number(process.env.BOOKING_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const { slots } = await futureSlots(t.ctx.pool, 6);
    const users: { id: string; email: string; token: string }[] = [];
    for (let i = 0; i < 40; i++) users.push(await t.signedIn());

    const TOTAL = 2400;
    const CONCURRENCY = 24;
    const held: { id: string; token: string; userId: string; slotId: string }[] = [];
    const ok = { holds: new Map<string, { userId: string; slotId: string }>(), confirmed: new Set<string>(), cancelled: new Set<string>() };
    const statuses: Record<string, number> = {};
    const failures: string[] = [];
    let expiredBySweep = 0;
    let started = 0;

    async function one(): Promise<void> {
      const r = random();
      let op: string;
      let status: number;
      if (r < 0.45 || held.length === 0) {
        op = 'hold';
        const u = pick(users);
        const slotId = pick(slots).id;
        const res = await t.app.inject({ method: 'POST', url: `/api/slots/${slotId}/hold`, headers: t.auth(u.token) });
        status = res.statusCode;
        if (status === 201) {
          const a = res.json().appointment;
          ok.holds.set(a.id, { userId: u.id, slotId });
          held.push({ id: a.id, token: u.token, userId: u.id, slotId });
        }
      } else if (r < 0.7) {
        op = 'confirm';
        const a = pick(held);
        const res = await t.app.inject({ method: 'POST', url: `/api/appointments/${a.id}/confirm`, headers: t.auth(a.token) });
        status = res.statusCode;
        if (status === 200) ok.confirmed.add(a.id);
      } else if (r < 0.88) {
        op = 'cancel';
        const a = pick(held);
        const res = await t.app.inject({ method: 'POST', url: `/api/appointments/${a.id}/cancel`, headers: t.auth(a.token) });
        status = res.statusCode;
        if (status === 200) ok.cancelled.add(a.id);
      } else {
        // time passes for one hold (its expiry moves into the past), and the sweep runs
        op = 'expire';
        const a = pick(held);
        await t.ctx.pool.query(`UPDATE appointments SET expires_at = now() - interval '1 millisecond' WHERE id = $1 AND status = 'HOLD'`, [a.id]);
        expiredBySweep += await expireDueHolds(t.ctx.pool, 3);
        status = 200;
      }
      const key = `${op} ${status}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (status >= 500) failures.push(key);
    }

    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (started < TOTAL) {
          started++;
          await one();
        }
      }),
    );

    expect(failures, `seed ${seed}: ${JSON.stringify(statuses)}`).toEqual([]);
    expect(await invariantViolations(t.ctx.pool), `seed ${seed}`).toEqual([]);

    // every 2xx is in the database, and nothing else is: 4xx left no trace
    const { rows: appts } = await t.ctx.pool.query<{ id: string; user_id: string; slot_id: string }>(`SELECT id, user_id, slot_id FROM appointments WHERE slot_id = ANY($1::uuid[])`, [slots.map((s) => s.id)]);
    expect(appts.length, `seed ${seed}`).toBe(ok.holds.size);
    for (const a of appts) expect(ok.holds.get(a.id), `seed ${seed}`).toEqual({ userId: a.user_id, slotId: a.slot_id });
    const { rows: ev } = await t.ctx.pool.query<{ event_type: string; n: number }>(
      `SELECT event_type, count(*)::int AS n FROM appointment_events WHERE appointment_id = ANY($1::uuid[]) GROUP BY event_type`,
      [appts.map((a) => a.id)],
    );
    const events = Object.fromEntries(ev.map((e) => [e.event_type, e.n]));
    expect(events.HOLD_PLACED ?? 0).toBe(ok.holds.size);
    expect(events.CONFIRMED ?? 0).toBe(ok.confirmed.size);
    expect(events.CANCELLED ?? 0).toBe(ok.cancelled.size);
    const { rows: confirmedNow } = await t.ctx.pool.query<{ id: string }>(
      `SELECT DISTINCT appointment_id AS id FROM appointment_events WHERE event_type = 'CONFIRMED' AND appointment_id = ANY($1::uuid[])`,
      [appts.map((a) => a.id)],
    );
    expect(new Set(confirmedNow.map((r) => r.id))).toEqual(ok.confirmed);
    // a slot made available by cancel or expiry was released to the alert loop each time
    const { rows: rel } = await t.ctx.pool.query<{ reason: string; n: number }>(
      `SELECT reason, count(*)::int AS n FROM slot_releases WHERE slot_id = ANY($1::uuid[]) AND reason <> 'created' GROUP BY reason`,
      [slots.map((s) => s.id)],
    );
    const released = Object.fromEntries(rel.map((r) => [r.reason, r.n]));
    expect(released.cancelled ?? 0).toBe(ok.cancelled.size);
    expect(released.hold_expired ?? 0).toBeLessThanOrEqual(events.HOLD_EXPIRED ?? 0);
    expect(expiredBySweep).toBeLessThanOrEqual(events.HOLD_EXPIRED ?? 0);
    // the run did exercise every path
    expect(Object.keys(statuses)).toEqual(expect.arrayContaining(['hold 201', 'hold 409', 'confirm 200', 'cancel 200', 'expire 200']));
  });

  it('a learner confirming a practical hold while racing holds on other practical slots ends with one practical appointment', async () => {
    const address = t.app.server.listening ? `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}` : await t.app.listen({ port: 0, host: '127.0.0.1' });
    const post = (token: string, path: string) => fetch(`${address}${path}`, { method: 'POST', headers: t.auth(token) });
    const refusals: Record<string, number> = {};
    for (let round = 0; round < 10; round++) {
      const { slots } = await futureSlots(t.ctx.pool, 5);
      const u = await t.signedIn();
      const a = (await t.app.inject({ method: 'POST', url: `/api/slots/${slots[0]!.id}/hold`, headers: t.auth(u.token) })).json().appointment;
      const [confirm, ...holds] = await Promise.all([post(u.token, `/api/appointments/${a.id}/confirm`), ...slots.slice(1).map((s) => post(u.token, `/api/slots/${s.id}/hold`))]);
      expect(confirm!.status).toBe(200);
      for (const h of holds) {
        expect(h.status).toBe(409);
        const code = ((await h.json()) as { error: { code: string } }).error.code;
        refusals[code] = (refusals[code] ?? 0) + 1;
      }
      const { rows } = await t.ctx.pool.query(`SELECT status FROM appointments WHERE user_id = $1`, [u.id]);
      expect(rows).toEqual([{ status: 'CONFIRMED' }]);
    }
    expect(Object.keys(refusals).every((c) => c === 'ALREADY_HOLDING' || c === 'ALREADY_BOOKED')).toBe(true);
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
    console.error(`holds racing a confirm were refused with: ${JSON.stringify(refusals)}`);
  });

  it('confirm racing the sweep at the expiry boundary: never both CONFIRMED and released', async () => {
    const { slots } = await futureSlots(t.ctx.pool, 30);
    const outcomes: Record<string, number> = {};
    for (const slot of slots) {
      const u = await t.signedIn();
      const a = (await t.app.inject({ method: 'POST', url: `/api/slots/${slot.id}/hold`, headers: t.auth(u.token) })).json().appointment;
      // the hold ends a few milliseconds from now; confirm and sweep start together around it
      await t.ctx.pool.query(`UPDATE appointments SET expires_at = clock_timestamp() + interval '15 milliseconds' WHERE id = $1`, [a.id]);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      const [confirm] = await Promise.all([
        t.app.inject({ method: 'POST', url: `/api/appointments/${a.id}/confirm`, headers: t.auth(u.token) }),
        expireDueHolds(t.ctx.pool, 10),
        expireDueHolds(t.ctx.pool, 10),
      ]);
      expect([200, 409]).toContain(confirm.statusCode);
      await new Promise((r) => setTimeout(r, 20));
      await expireDueHolds(t.ctx.pool, 10); // whatever is left due is swept now

      const { rows } = await t.ctx.pool.query<{ a: string; s: string; expired_releases: number }>(
        `SELECT a.status AS a, s.status AS s,
                (SELECT count(*)::int FROM slot_releases r WHERE r.slot_id = s.id AND r.reason = 'hold_expired') AS expired_releases
           FROM appointments a JOIN time_slots s ON s.id = a.slot_id WHERE a.id = $1`,
        [a.id],
      );
      const state = rows[0]!;
      if (confirm.statusCode === 200) {
        expect(state).toEqual({ a: 'CONFIRMED', s: 'BOOKED', expired_releases: 0 });
      } else {
        expect(confirm.json().error.code).toBe('HOLD_EXPIRED');
        expect(state).toEqual({ a: 'CANCELLED', s: 'AVAILABLE', expired_releases: 1 });
      }
      const key = `${confirm.statusCode}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    expect(await invariantViolations(t.ctx.pool)).toEqual([]);
    console.error(`confirm vs sweep outcomes: ${JSON.stringify(outcomes)}`);
  });
});
