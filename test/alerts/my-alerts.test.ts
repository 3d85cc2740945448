/**
 * GET /api/me/alerts: a learner's own alerts, newest first, paged by id, each with its
 * slot and what became of it; PUT /api/me/alert-cap sets their own daily cap.
 */
import { describe, expect, it } from 'vitest';
import { deleteAlertsOf } from '../../src/alerts/store.js';
import { useTestApp } from '../helpers/app.js';
import { insertCenter, insertSlot, insertWatch } from '../helpers/factories.js';

const t = useTestApp();

describe('GET /api/me/alerts', () => {
  it('lists only the caller\'s alerts, newest first, paged, with digests and caps told apart', async () => {
    const me = await t.signedIn();
    const other = await t.signedIn();
    const centre = await insertCenter(t.ctx.pool, { name: 'Mill Hill' });
    const watch = await insertWatch(t.ctx.pool, { userId: me.id });
    const slots = await Promise.all([0, 1, 2].map(() => insertSlot(t.ctx.pool, { centerId: centre.id })));
    const { rows: msg } = await t.ctx.pool.query<{ id: string }>(
      `INSERT INTO alert_messages (user_id, kind, status, channel, sent_at) VALUES ($1, 'digest', 'SENT', 'email', now()) RETURNING id`,
      [me.id],
    );
    const ids: string[] = [];
    for (const [i, status] of (['CAPPED', 'DIGESTED', 'SKIPPED'] as const).entries()) {
      const { rows } = await t.ctx.pool.query<{ id: string }>(
        `INSERT INTO user_alerts (user_id, slot_id, preference_id, channel, status, message_id, last_error)
         VALUES ($1, $2, $3, 'email', $4::alert_status, $5, $6) RETURNING id`,
        [me.id, slots[i]!.id, watch.id, status, status === 'DIGESTED' ? msg[0]!.id : null, status === 'SKIPPED' ? 'slot is HOLD' : null],
      );
      ids.push(rows[0]!.id);
    }
    await t.ctx.pool.query(`INSERT INTO user_alerts (user_id, slot_id, channel) VALUES ($1, $2, 'email')`, [other.id, slots[0]!.id]);

    const first = await t.app.inject({ method: 'GET', url: '/api/me/alerts?limit=2', headers: t.auth(me.token) });
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.items.map((a: { id: string }) => a.id)).toEqual([ids[2], ids[1]]);
    expect(page1.items[0]).toMatchObject({ status: 'skipped', reason: 'slot is HOLD', message: null, slot: { id: slots[2]!.id, centre: 'Mill Hill', free: true } });
    expect(page1.items[1]).toMatchObject({ status: 'digested', message: { id: msg[0]!.id, kind: 'digest', status: 'sent', channel: 'email' } });
    expect(page1.next).toEqual({ before: ids[1] });
    const page2 = (await t.app.inject({ method: 'GET', url: `/api/me/alerts?limit=2&before=${ids[1]}`, headers: t.auth(me.token) })).json();
    expect(page2.items.map((a: { id: string; status: string }) => [a.id, a.status])).toEqual([[ids[0], 'capped']]);
    expect(page2.next).toBeNull();

    const html = await t.app.inject({ method: 'GET', url: '/alerts', headers: { cookie: `sw_session=${me.token}` } });
    expect(html.body).toContain('Not sent: daily limit reached');
    expect(html.body).toContain('Not sent: the slot was taken');
    expect(html.body).toContain('Sent in a summary email');

    expect(await deleteAlertsOf(t.ctx.pool, me.id)).toEqual({ alerts: 3, messages: 1 });
    expect((await t.app.inject({ method: 'GET', url: '/api/me/alerts', headers: t.auth(me.token) })).json().items).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/api/me/alerts', headers: t.auth(other.token) })).json().items).toHaveLength(1);
  });

  it('needs a session and a valid page cursor', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/me/alerts' })).statusCode).toBe(401);
    const me = await t.signedIn();
    const res = await t.app.inject({ method: 'GET', url: '/api/me/alerts?before=yesterday', headers: t.auth(me.token) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('before');
  });
});

describe('PUT /api/me/alert-cap', () => {
  it('sets and clears the learner\'s own cap, 1 to 1000', async () => {
    const me = await t.signedIn();
    const put = (dailyCap: unknown) => t.app.inject({ method: 'PUT', url: '/api/me/alert-cap', headers: t.auth(me.token), payload: { dailyCap } });
    expect((await put(5)).json()).toEqual({ dailyCap: 5 });
    expect((await t.app.inject({ method: 'GET', url: '/api/me/alert-cap', headers: t.auth(me.token) })).json()).toEqual({ dailyCap: 5 });
    expect((await put(0)).statusCode).toBe(400);
    expect((await put(1001)).statusCode).toBe(400);
    expect((await put(null)).json()).toEqual({ dailyCap: null });
  });
});
