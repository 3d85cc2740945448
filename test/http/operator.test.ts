/** Operator routes: centres, examiners, bulk slots, no-show; and the role check on every operator/admin route. */
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

const t = useTestApp({ HOLD_LIMIT_PER_MINUTE: 100_000 });

const post = (token: string, url: string, payload?: object) => t.app.inject({ method: 'POST', url, headers: t.auth(token), ...(payload ? { payload } : {}) });

describe('operator routes', () => {
  it('creates a centre, an examiner and 1,000 slots in one request, audited', async () => {
    const op = await t.signedIn('OPERATOR');
    const c = await post(op.token, '/api/operator/centers', { name: 'Hendon', postcode: 'nw4 3ns', latitude: 51.5886, longitude: -0.2301 });
    expect(c.statusCode).toBe(201);
    const center = c.json().center;
    expect(center).toMatchObject({ name: 'Hendon', postcode: 'NW4 3NS', latitude: 51.5886, longitude: -0.2301 });

    const s = await post(op.token, '/api/operator/specialists', { fullName: 'Pat Examiner', serviceType: 'driving examiner', centerId: center.id });
    expect(s.statusCode).toBe(201);
    const specialist = s.json().specialist;
    expect(specialist.centerId).toBe(center.id);

    const base = Date.UTC(2032, 0, 1);
    const slots = Array.from({ length: 1000 }, (_, i) => ({
      specialistId: specialist.id,
      testType: i % 2 ? 'theory' : 'practical',
      startTime: new Date(base + i * 3_600_000).toISOString(),
      endTime: new Date(base + i * 3_600_000 + 57 * 60_000).toISOString(),
    }));
    const res = await post(op.token, '/api/operator/slots', { slots });
    expect(res.statusCode).toBe(201);
    const created = res.json().slots;
    expect(created).toHaveLength(1000);
    expect(created[0]).toMatchObject({ centerId: center.id, specialistId: specialist.id, testType: 'practical', status: 'AVAILABLE', startTime: slots[0]!.startTime });
    expect(created[999].startTime).toBe(slots[999]!.startTime);

    const { rows } = await t.ctx.pool.query(`SELECT action FROM audit_logs WHERE user_id = $1 ORDER BY id`, [op.id]);
    expect(rows.map((r) => r.action)).toEqual(['center.create', 'specialist.create', 'slots.create']);
    const { rows: rel } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM slot_releases WHERE slot_id = ANY($1::uuid[]) AND reason = 'created'`, [created.map((x: { id: string }) => x.id)]);
    expect(rel[0].n).toBe(1000);
  });

  it('refuses bad batches whole: too many, end before start, overlaps, unknown examiner', async () => {
    const op = await t.signedIn('ADMIN');
    const center = (await post(op.token, '/api/operator/centers', { name: 'Mill Hill', postcode: 'NW7 1AA', latitude: 51.61, longitude: -0.24 })).json().center;
    const specialist = (await post(op.token, '/api/operator/specialists', { fullName: 'Sam', serviceType: 'driving examiner', centerId: center.id })).json().specialist;
    const slot = (start: string, end: string, specialistId = specialist.id) => ({ specialistId, testType: 'practical', startTime: start, endTime: end });
    const countSlots = async () => (await t.ctx.pool.query(`SELECT count(*)::int AS n FROM time_slots WHERE center_id = $1`, [center.id])).rows[0].n;

    const tooMany = await post(op.token, '/api/operator/slots', { slots: Array.from({ length: 1001 }, () => slot('2033-01-01T09:00:00Z', '2033-01-01T10:00:00Z')) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.message).toMatch(/body\/slots/);

    const backwards = await post(op.token, '/api/operator/slots', { slots: [slot('2033-01-01T10:00:00Z', '2033-01-01T09:00:00Z')] });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error.message).toBe('body/slots/0/endTime must be after startTime');

    const overlap = await post(op.token, '/api/operator/slots', {
      slots: [slot('2033-01-01T09:00:00Z', '2033-01-01T10:00:00Z'), slot('2033-01-01T09:30:00Z', '2033-01-01T10:30:00Z')],
    });
    expect(overlap.statusCode).toBe(409);
    expect(overlap.json().error.code).toBe('SLOT_OVERLAP');

    const unknown = await post(op.token, '/api/operator/slots', {
      slots: [slot('2033-01-02T09:00:00Z', '2033-01-02T10:00:00Z'), slot('2033-01-03T09:00:00Z', '2033-01-03T10:00:00Z', '00000000-0000-4000-8000-000000000000')],
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error).toEqual({ code: 'UNKNOWN_SPECIALIST', message: 'slots/1/specialistId names no active specialist' });

    const noCentre = await post(op.token, '/api/operator/specialists', { fullName: 'Kim', serviceType: 'driving examiner', centerId: '00000000-0000-4000-8000-000000000000' });
    expect(noCentre.statusCode).toBe(422);
    expect(noCentre.json().error.code).toBe('UNKNOWN_CENTER');
    expect(await countSlots()).toBe(0);
  });

  it('records a no-show on a confirmed appointment and releases the slot (reason no_show)', async () => {
    const op = await t.signedIn('OPERATOR');
    const center = (await post(op.token, '/api/operator/centers', { name: 'Barnet', postcode: 'EN5 1AA', latitude: 51.65, longitude: -0.2 })).json().center;
    const specialist = (await post(op.token, '/api/operator/specialists', { fullName: 'Lee', serviceType: 'driving examiner', centerId: center.id })).json().specialist;
    const start = new Date(Date.now() + 3 * 86_400_000);
    const slot = (await post(op.token, '/api/operator/slots', {
      slots: [{ specialistId: specialist.id, testType: 'practical', startTime: start.toISOString(), endTime: new Date(start.getTime() + 3_600_000).toISOString() }],
    })).json().slots[0];
    const learner = await t.signedIn();
    const a = (await post(learner.token, `/api/slots/${slot.id}/hold`)).json().appointment;

    const early = await post(op.token, `/api/operator/appointments/${a.id}/no-show`);
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('APPOINTMENT_NOT_ACTIVE');

    expect((await post(learner.token, `/api/appointments/${a.id}/confirm`)).statusCode).toBe(200);
    const res = await post(op.token, `/api/operator/appointments/${a.id}/no-show`);
    expect(res.statusCode).toBe(200);
    expect(res.json().appointment.status).toBe('NO_SHOW');
    const { rows } = await t.ctx.pool.query(`SELECT status FROM time_slots WHERE id = $1`, [slot.id]);
    expect(rows[0].status).toBe('AVAILABLE');
    const { rows: ev } = await t.ctx.pool.query(`SELECT event_type, actor, actor_user_id FROM appointment_events WHERE appointment_id = $1 ORDER BY id DESC LIMIT 1`, [a.id]);
    expect(ev[0]).toEqual({ event_type: 'NO_SHOW', actor: 'operator', actor_user_id: op.id });
    const { rows: rel } = await t.ctx.pool.query(`SELECT reason FROM slot_releases WHERE slot_id = $1 ORDER BY id`, [slot.id]);
    expect(rel.map((r) => r.reason)).toEqual(['created', 'no_show']);

    const missing = await post(op.token, `/api/operator/appointments/00000000-0000-4000-8000-000000000000/no-show`);
    expect(missing.statusCode).toBe(404);
  });
});

describe('role checks', () => {
  it('every operator and admin route answers 401 without a token and 403 to a lower role, changing nothing', async () => {
    const staffRoutes = t.app.routeTable.filter((r) => /^\/api\/(operator|admin)\//.test(r.url));
    expect(staffRoutes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /api/operator/centers', 'POST /api/operator/specialists', 'POST /api/operator/slots', 'POST /api/operator/appointments/:id/no-show']),
    );
    const client = await t.signedIn('CLIENT');
    const operator = await t.signedIn('OPERATOR');
    const before = (await t.ctx.pool.query(`SELECT (SELECT count(*) FROM test_centers) + (SELECT count(*) FROM audit_logs) + (SELECT count(*) FROM system_config) AS n`)).rows[0].n;
    // a settings route once per key kind: an environment default and a booking limit
    const urls = (r: { url: string }) =>
      (r.url.includes(':key') ? ['hold_minutes', 'rehold_cooldown_seconds'] : ['']).map((key) =>
        r.url.replace(/:(\w+)/g, (_m, name: string) => (name === 'key' ? key : '00000000-0000-4000-8000-000000000000')),
      );
    for (const r of staffRoutes.flatMap((route) => urls(route).map((url) => ({ ...route, url })))) {
      const url = r.url;
      const method = r.method as 'GET' | 'POST' | 'PUT' | 'DELETE';
      const payload = method === 'GET' ? undefined : { name: 'x', value: 1 };
      const anon = await t.app.inject({ method, url, ...(payload ? { payload } : {}) });
      expect(anon.statusCode, `${r.method} ${r.url} anonymous`).toBe(401);
      const low = await t.app.inject({ method, url, headers: t.auth(client.token), ...(payload ? { payload } : {}) });
      expect(low.statusCode, `${r.method} ${r.url} as CLIENT`).toBe(403);
      expect(low.json().error.code).toBe('FORBIDDEN');
      if (r.url.startsWith('/api/admin/')) {
        const op = await t.app.inject({ method, url, headers: t.auth(operator.token), ...(payload ? { payload } : {}) });
        expect(op.statusCode, `${r.method} ${r.url} as OPERATOR`).toBe(403);
      }
    }
    const after = (await t.ctx.pool.query(`SELECT (SELECT count(*) FROM test_centers) + (SELECT count(*) FROM audit_logs) + (SELECT count(*) FROM system_config) AS n`)).rows[0].n;
    expect(after).toBe(before);
  });
});
