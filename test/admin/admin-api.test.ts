/** Admin API: runtime settings (validated, audited, re-read by running processes) and the audit log. */
import { describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/audit/audit.js';
import { SettingsCache } from '../../src/settings/settings.js';
import { useTestApp } from '../helpers/app.js';

const t = useTestApp();

describe('GET/PUT /api/admin/config/:key', () => {
  it('shows the environment default until an admin sets a value, then the value, audited', async () => {
    const admin = await t.signedIn('ADMIN');
    const before = await t.app.inject({ method: 'GET', url: '/api/admin/config/hold_minutes', headers: t.auth(admin.token) });
    expect(before.statusCode).toBe(200);
    expect(before.json().setting).toMatchObject({ key: 'hold_minutes', value: t.config.HOLD_MINUTES, source: 'environment' });

    const put = await t.app.inject({ method: 'PUT', url: '/api/admin/config/hold_minutes', headers: t.auth(admin.token), payload: { value: 7 } });
    expect(put.statusCode).toBe(200);
    expect(put.json().setting).toMatchObject({ key: 'hold_minutes', value: 7, source: 'database', updatedBy: admin.id });

    const audit = await t.ctx.pool.query(`SELECT user_id, action, entity_id, details FROM audit_logs WHERE action = 'config.update'`);
    expect(audit.rows).toEqual([{ user_id: admin.id, action: 'config.update', entity_id: 'hold_minutes', details: { from: null, to: 7 } }]);

    const all = await t.app.inject({ method: 'GET', url: '/api/admin/config', headers: t.auth(admin.token) });
    expect(all.json().settings.map((s: { key: string }) => s.key)).toEqual(
      expect.arrayContaining(['hold_minutes', 'hold_sweep_seconds', 'rehold_cooldown_seconds', 'release_poll_seconds', 'send_rate_email_per_second', 'send_rate_push_per_second', 'quiet_hours_default']),
    );
  });

  it('is picked up by a running process without a restart', async () => {
    const admin = await t.signedIn('ADMIN');
    const cache = new SettingsCache(t.ctx.pool, t.config, 50);
    await t.app.inject({ method: 'PUT', url: '/api/admin/config/release_poll_seconds', headers: t.auth(admin.token), payload: { value: 9 } });
    await expect.poll(() => cache.get('release_poll_seconds')).toBe(9);
    await t.app.inject({ method: 'PUT', url: '/api/admin/config/release_poll_seconds', headers: t.auth(admin.token), payload: { value: 3 } });
    await expect.poll(() => cache.get('release_poll_seconds')).toBe(3);
  });

  it.each([
    ['hold_minutes', 0, 'hold_minutes: value'],
    ['hold_minutes', '5', 'hold_minutes: value'],
    ['hold_minutes', 2.5, 'hold_minutes: value'],
    ['send_rate_push_per_second', -1, 'send_rate_push_per_second: value'],
    ['rehold_cooldown_seconds', -1, 'rehold_cooldown_seconds: value'],
    ['rehold_cooldown_seconds', 3601, 'rehold_cooldown_seconds: value'],
    ['rehold_cooldown_seconds', 1.5, 'rehold_cooldown_seconds: value'],
    ['quiet_hours_default', { start: '25:00', end: '07:00' }, 'quiet_hours_default: value.start'],
    ['quiet_hours_default', { start: '22:00' }, 'quiet_hours_default: value.end'],
    ['quiet_hours_default', { start: '22:00', end: '07:00', extra: 1 }, 'quiet_hours_default: value'],
  ])('refuses %s = %j with a 400 naming it, and changes nothing', async (key, value, message) => {
    const admin = await t.signedIn('ADMIN');
    const res = await t.app.inject({ method: 'PUT', url: `/api/admin/config/${key}`, headers: t.auth(admin.token), payload: { value } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_SETTING');
    expect(res.json().error.message).toContain(message);
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM audit_logs WHERE user_id = $1`, [admin.id]);
    expect(rows[0].n).toBe(0);
  });

  it('accepts quiet hours and null', async () => {
    const admin = await t.signedIn('ADMIN');
    for (const value of [{ start: '22:00', end: '07:00' }, null]) {
      const res = await t.app.inject({ method: 'PUT', url: '/api/admin/config/quiet_hours_default', headers: t.auth(admin.token), payload: { value } });
      expect(res.statusCode).toBe(200);
      expect(res.json().setting.value).toEqual(value);
    }
  });

  it('404s an unknown key and 400s a body without value or with extra fields', async () => {
    const admin = await t.signedIn('ADMIN');
    const unknown = await t.app.inject({ method: 'PUT', url: '/api/admin/config/max_power', headers: t.auth(admin.token), payload: { value: 1 } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toContain('hold_minutes');
    const noValue = await t.app.inject({ method: 'PUT', url: '/api/admin/config/hold_minutes', headers: t.auth(admin.token), payload: {} });
    expect(noValue.statusCode).toBe(400);
    const extra = await t.app.inject({ method: 'PUT', url: '/api/admin/config/hold_minutes', headers: t.auth(admin.token), payload: { value: 5, why: 'x' } });
    expect(extra.statusCode).toBe(400);
  });
});

describe('GET /api/admin/audit-logs', () => {
  it('filters by user, action and time, and pages newest first', async () => {
    const admin = await t.signedIn('ADMIN');
    const actor = await t.signedIn('OPERATOR');
    for (let i = 0; i < 5; i++) await recordAudit(t.ctx.pool, { userId: actor.id, action: 'slot.create', entityId: `s${i}` });
    await recordAudit(t.ctx.pool, { userId: actor.id, action: 'center.create', entityId: 'c1' });
    const get = (qs: string) => t.app.inject({ method: 'GET', url: `/api/admin/audit-logs?${qs}`, headers: t.auth(admin.token) });

    const first = await get(`userId=${actor.id}&action=slot.create&limit=2`);
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((r: { entityId: string }) => r.entityId)).toEqual(['s4', 's3']);
    const second = await get(`userId=${actor.id}&action=slot.create&limit=2&before=${first.json().next.before}`);
    expect(second.json().items.map((r: { entityId: string }) => r.entityId)).toEqual(['s2', 's1']);
    const last = await get(`userId=${actor.id}&action=slot.create&limit=2&before=${second.json().next.before}`);
    expect(last.json()).toMatchObject({ items: [{ entityId: 's0' }], next: null });

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await get(`userId=${actor.id}&from=${encodeURIComponent(future)}`)).json().items).toEqual([]);
    expect((await get(`userId=${actor.id}&to=${encodeURIComponent(future)}`)).json().items).toHaveLength(6);
  });

  it.each(['userId=nope', 'limit=0', 'limit=501', 'from=yesterday', 'action=DROP%20TABLE', 'page=2'])('refuses ?%s with a 400', async (qs) => {
    const admin = await t.signedIn('ADMIN');
    const res = await t.app.inject({ method: 'GET', url: `/api/admin/audit-logs?${qs}`, headers: t.auth(admin.token) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
  });
});

describe('admin routes refuse everyone but admins', () => {
  it.each([
    ['GET', '/api/admin/audit-logs'],
    ['GET', '/api/admin/config'],
    ['GET', '/api/admin/config/hold_minutes'],
    ['PUT', '/api/admin/config/hold_minutes'],
  ])('%s %s', async (method, url) => {
    const payload = method === 'PUT' ? { value: 6 } : undefined;
    expect((await t.app.inject({ method: method as 'GET', url, payload })).statusCode).toBe(401);
    for (const role of ['CLIENT', 'OPERATOR'] as const) {
      const u = await t.signedIn(role);
      const res = await t.app.inject({ method: method as 'GET', url, headers: t.auth(u.token), payload });
      expect(res.statusCode).toBe(403);
      expect(res.body).not.toContain('hold_minutes');
    }
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM system_config WHERE key = 'hold_minutes' AND value = '6'`);
    expect(rows[0].n).toBe(0);
  });
});
