/** A learner sets, reads and clears their own quiet hours; bad values are refused and change nothing. */
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

const t = useTestApp();

describe('/api/me/quiet-hours', () => {
  it('sets, reads and clears them, and the delivery query sees them', async () => {
    const me = await t.signedIn();
    const get = () => t.app.inject({ method: 'GET', url: '/api/me/quiet-hours', headers: t.auth(me.token) });
    expect((await get()).json()).toEqual({ quietHours: null });

    const put = await t.app.inject({ method: 'PUT', url: '/api/me/quiet-hours', headers: t.auth(me.token), payload: { quietHours: { start: '22:00', end: '07:30' } } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ quietHours: { start: '22:00', end: '07:30' } });
    expect((await get()).json()).toEqual({ quietHours: { start: '22:00', end: '07:30' } });
    // what the delivery statements read: 23:30 London time in winter is inside, 08:00 is not
    const { rows } = await t.ctx.pool.query(
      `SELECT user_quiet_hours_until(quiet_hours_start, quiet_hours_end, '2031-01-14T23:30:00Z') AS inside,
              user_quiet_hours_until(quiet_hours_start, quiet_hours_end, '2031-01-14T08:00:00Z') AS outside FROM users WHERE id = $1`,
      [me.id],
    );
    expect(rows[0]).toEqual({ inside: new Date('2031-01-15T07:30:00Z'), outside: null });

    const off = await t.app.inject({ method: 'PUT', url: '/api/me/quiet-hours', headers: t.auth(me.token), payload: { quietHours: null } });
    expect(off.json()).toEqual({ quietHours: null });
  });

  it.each([
    [{ quietHours: { start: '25:00', end: '07:00' } }, 'body/quietHours'],
    [{ quietHours: { start: '22:00' } }, 'body/quietHours'],
    [{ quietHours: { start: '22:00', end: '22:00' } }, 'start and end must differ'],
    [{ quietHours: { start: '22:00', end: '07:00', days: 'weekdays' } }, 'body/quietHours'],
    [{ start: '22:00', end: '07:00' }, 'body'],
  ])('refuses %j with a 400 and changes nothing', async (payload, message) => {
    const me = await t.signedIn();
    await t.app.inject({ method: 'PUT', url: '/api/me/quiet-hours', headers: t.auth(me.token), payload: { quietHours: { start: '21:00', end: '06:00' } } });
    const res = await t.app.inject({ method: 'PUT', url: '/api/me/quiet-hours', headers: t.auth(me.token), payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain(message);
    const after = await t.app.inject({ method: 'GET', url: '/api/me/quiet-hours', headers: t.auth(me.token) });
    expect(after.json()).toEqual({ quietHours: { start: '21:00', end: '06:00' } });
  });

  it('needs a signed-in user', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/me/quiet-hours' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'PUT', url: '/api/me/quiet-hours', payload: { quietHours: null } })).statusCode).toBe(401);
  });
});
