/**
 * Real answers match the OpenAPI document: for each family of routes, successes and
 * refusals made through the app are checked against the schema the document gives for that
 * operation, status and media type. Our bodies are documented as closed objects, so a field
 * added to an answer without documenting it fails here.
 */
import webpush from 'web-push';
import { createECDH, randomBytes } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { recordHeartbeat } from '../../src/queues/heartbeat.js';
import { resolveAsPublic, sessionCookieOf, useTestApp } from '../helpers/app.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';
import { documented, type OpenApiDocument } from '../helpers/openapi.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

const vapid = webpush.generateVAPIDKeys();
const METRICS_TOKEN = 'metrics-token-for-the-document-test';
const t = useTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, METRICS_TOKEN, LOGIN_LIMIT_PER_MINUTE: 3 }, { lookupHost: resolveAsPublic });
useCheapHashes(t);
const PASSWORD = 'correct horse battery';
const NOBODY = '00000000-0000-4000-8000-000000000000';
let check: ReturnType<typeof documented>;

beforeAll(async () => {
  check = documented((await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as OpenApiDocument);
});

/** Sends a request and checks its answer against `operation` in the document; returns the answer. */
async function answer(operation: string, o: Omit<InjectOptions, 'method'> & { url: string }, status: number) {
  const res = await t.app.inject({ method: operation.split(' ')[0] as 'GET', ...o });
  expect(res.statusCode, `${operation}: ${res.body.slice(0, 300)}`).toBe(status);
  check(res, operation);
  return res;
}

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('answers match the document', () => {
  it('accounts and the cookie session', async () => {
    const email = `doc-${randomBytes(4).toString('hex')}@openapi.test`;
    await answer('POST /api/auth/register', { url: '/api/auth/register', payload: { email, password: PASSWORD, firstName: 'Ada' } }, 202);
    await answer('POST /api/auth/register', { url: '/api/auth/register', payload: { email, password: PASSWORD } }, 202);
    await answer('POST /api/auth/register', { url: '/api/auth/register', payload: { email, password: 'password123' } }, 400);
    await answer('POST /api/auth/register', { url: '/api/auth/register', payload: { email: 'not an email', password: PASSWORD } }, 400);
    await answer('POST /api/auth/register', { url: '/api/auth/register', headers: { 'content-type': 'application/json' }, payload: '{"email":' }, 400);
    await answer('POST /api/auth/register', { url: '/api/auth/register', headers: { 'content-type': 'application/xml' }, payload: '<a/>' }, 415);
    await answer('POST /api/auth/register', { url: '/api/auth/register', payload: { email, password: 'x'.repeat(600_000) } }, 413);
    const token = (await answer('POST /api/auth/login', { url: '/api/auth/login', payload: { email, password: PASSWORD } }, 200)).json().token;
    await answer('POST /api/auth/login', { url: '/api/auth/login', payload: { email, password: 'wrong password' } }, 401);
    await answer('POST /api/auth/login', { url: '/api/auth/login', payload: { email, password: 'wrong again' } }, 401);
    await answer('POST /api/auth/login', { url: '/api/auth/login', payload: { email, password: 'and again' } }, 401);
    // three failures from this client for this address: refused here, even the right password
    await answer('POST /api/auth/login', { url: '/api/auth/login', payload: { email, password: PASSWORD } }, 429);
    await answer('GET /api/me', { url: '/api/me', headers: as(token) }, 200);
    await answer('GET /api/me', { url: '/api/me' }, 401);
    await answer('POST /api/me/password', { url: '/api/me/password', headers: as(token), payload: { currentPassword: 'not it at all', newPassword: 'a new long secret' } }, 400);
    await answer('POST /api/me/password', { url: '/api/me/password', headers: as(token), payload: { currentPassword: PASSWORD, newPassword: 'a new long secret' } }, 204);
    await answer('POST /api/auth/verify', { url: '/api/auth/verify', payload: { token: 'A'.repeat(43) } }, 400);
    await answer('POST /api/auth/verify/resend', { url: '/api/auth/verify/resend', payload: { email } }, 202);
    await answer('POST /api/auth/password-reset', { url: '/api/auth/password-reset', payload: { email } }, 202);
    await answer('POST /api/auth/password-reset/confirm', { url: '/api/auth/password-reset/confirm', payload: { token: 'A'.repeat(43), newPassword: 'a new long secret' } }, 400);
    await answer('POST /api/auth/logout', { url: '/api/auth/logout', headers: as(token) }, 204);
    const other = await t.signedIn();
    await answer('POST /api/me/sessions/revoke-all', { url: '/api/me/sessions/revoke-all', headers: as(other.token) }, 204);
    await answer('POST /api/me/sessions/revoke-all', { url: '/api/me/sessions/revoke-all', headers: as(other.token) }, 401);

    const web = await createUser(t.ctx.pool, { email: `web-${email}`, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT' });
    const session = await answer('POST /api/web/session', { url: '/api/web/session', payload: { email: web.email, password: PASSWORD } }, 200);
    const cookie = sessionCookieOf(session);
    await answer('POST /api/me/watches', { url: '/api/me/watches', headers: { cookie }, payload: {} }, 403);
    await answer('DELETE /api/web/session', { url: '/api/web/session', headers: { cookie } }, 403);
    await answer('DELETE /api/web/session', { url: '/api/web/session', headers: { cookie, 'x-csrf-token': session.json().csrfToken } }, 204);
  });

  it('your data: export and delete', async () => {
    const email = `data-${randomBytes(4).toString('hex')}@openapi.test`;
    await createUser(t.ctx.pool, { email, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT', firstName: 'Ada' });
    const token = (await answer('POST /api/auth/login', { url: '/api/auth/login', payload: { email, password: PASSWORD } }, 200)).json().token;
    await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: as(token), payload: { location: { latitude: 52, longitude: 0 }, radiusMiles: 5, method: 'email', testTypes: ['practical'] } });
    await answer('GET /api/me/export', { url: '/api/me/export', headers: as(token) }, 200);
    await answer('GET /api/me/export', { url: '/api/me/export' }, 401);
    await answer('DELETE /api/me', { url: '/api/me', headers: as(token), payload: { password: 'not the password' } }, 400);
    await answer('DELETE /api/me', { url: '/api/me', headers: as(token), payload: { password: '' } }, 400);
    await answer('DELETE /api/me', { url: '/api/me', headers: as((await t.signedIn('OPERATOR')).token), payload: { password: PASSWORD } }, 403);
    await answer('DELETE /api/me', { url: '/api/me', headers: as(token), payload: { password: PASSWORD } }, 204);
    await answer('DELETE /api/me', { url: '/api/me', headers: as(token), payload: { password: PASSWORD } }, 401);
  });

  it('slots, holds and appointments', async () => {
    const center = await insertCenter(t.ctx.pool, { latitude: 52.2, longitude: 0.12 });
    const start = Date.now() + 5 * 86_400_000;
    const slots = [0, 1, 2].map((i) => insertSlot(t.ctx.pool, { centerId: center.id, start: new Date(start + i * 3_600_000) }));
    const [a, b, c] = await Promise.all(slots);
    const me = await t.signedIn();
    const other = await t.signedIn();

    const found = await answer('GET /api/slots', { url: '/api/slots?lat=52.2&lon=0.12&radiusMiles=5' }, 200);
    expect(found.json().slots.length).toBe(3);
    await answer('GET /api/slots', { url: '/api/slots?lat=91&lon=0' }, 400);

    const held = await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${a!.id}/hold`, headers: { ...as(me.token), 'idempotency-key': 'doc-1' } }, 201);
    const replay = await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${a!.id}/hold`, headers: { ...as(me.token), 'idempotency-key': 'doc-1' } }, 201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${b!.id}/hold`, headers: { ...as(me.token), 'idempotency-key': 'doc-1' } }, 422);
    await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${a!.id}/hold`, headers: as(other.token) }, 409);
    await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${NOBODY}/hold`, headers: as(other.token) }, 404);
    await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${b!.id}/hold`, headers: { ...as(other.token), 'idempotency-key': 'no spaces' } }, 400);
    await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${b!.id}/hold` }, 401);
    await answer('POST /api/slots/{slotId}/hold', { url: '/api/slots/%ZZ/hold', headers: as(other.token) }, 400);

    const id = held.json().appointment.id;
    await answer('POST /api/appointments/{id}/confirm', { url: `/api/appointments/${id}/confirm`, headers: as(me.token) }, 200);
    await answer('POST /api/appointments/{id}/confirm', { url: `/api/appointments/${id}/confirm`, headers: as(other.token) }, 404);
    await answer('POST /api/appointments/{id}/confirm', { url: `/api/appointments/${id}/confirm`, headers: as(me.token), payload: { extra: 1 } }, 400);
    const list = await answer('GET /api/appointments', { url: '/api/appointments', headers: as(me.token) }, 200);
    expect(list.json().appointments).toHaveLength(1);
    // one booking per test type: another practical test only once this one is cancelled
    await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${c!.id}/hold`, headers: as(me.token) }, 409);
    await answer('POST /api/appointments/{id}/cancel', { url: `/api/appointments/${id}/cancel`, headers: as(me.token) }, 200);
    const second = (await answer('POST /api/slots/{slotId}/hold', { url: `/api/slots/${c!.id}/hold`, headers: as(me.token) }, 201)).json().appointment.id;
    await answer('POST /api/appointments/{id}/cancel', { url: `/api/appointments/${second}/cancel`, headers: as(me.token) }, 200);
    await answer('POST /api/appointments/{id}/cancel', { url: `/api/appointments/${second}/cancel`, headers: as(me.token) }, 409);
  });

  it('watches, their old paths, and coverage', async () => {
    const me = await t.signedIn();
    const center = await insertCenter(t.ctx.pool, { latitude: 53.48, longitude: -2.24, postcode: 'M1 1AE' });
    await insertSlot(t.ctx.pool, { centerId: center.id, start: new Date(Date.now() + 3 * 86_400_000) });
    const body = { location: { latitude: 53.48, longitude: -2.24 }, radiusMiles: 10, method: 'email', testTypes: ['practical'], label: 'Work' };

    const watch = (await answer('POST /api/me/watches', { url: '/api/me/watches', headers: as(me.token), payload: body }, 201)).json().watch;
    await answer('POST /api/me/watches', { url: '/api/me/watches', headers: as(me.token), payload: { ...body, location: undefined, postcode: 'M1 1AE', earliestDate: '2031-01-01' } }, 201);
    await answer('POST /api/me/watches', { url: '/api/me/watches', headers: as(me.token), payload: { ...body, location: undefined, postcode: 'ZZ99 9ZZ' } }, 400);
    await answer('POST /api/me/watches', { url: '/api/me/watches', headers: as(me.token), payload: { ...body, location: undefined, postcode: 'nonsense' } }, 400);
    await answer('GET /api/me/watches', { url: '/api/me/watches', headers: as(me.token) }, 200);
    await answer('GET /api/postcodes/{postcode}', { url: '/api/postcodes/m11ae' }, 200);
    await answer('GET /api/postcodes/{postcode}', { url: '/api/postcodes/ZZ99%209ZZ' }, 404);
    await answer('GET /api/postcodes/{postcode}', { url: '/api/postcodes/nonsense' }, 400);
    await answer('PUT /api/me/watches/{id}', { url: `/api/me/watches/${watch.id}`, headers: as(me.token), payload: { ...body, isActive: false } }, 200);
    await answer('PUT /api/me/watches/{id}', { url: `/api/me/watches/${NOBODY}`, headers: as(me.token), payload: body }, 404);

    const coverage = await answer('GET /api/me/watches/coverage', { url: '/api/me/watches/coverage', headers: as(me.token) }, 200);
    expect(coverage.json().watches[0].centers.length).toBeGreaterThan(0);
    await answer('GET /api/me/watches/coverage', { url: '/api/me/watches/coverage' }, 401);
    await answer('GET /api/web/watches', { url: '/api/web/watches', headers: as(me.token) }, 200);

    const old = (await answer('POST /api/me/preferences', { url: '/api/me/preferences', headers: as(me.token), payload: body }, 201)).json().preference;
    await answer('GET /api/me/preferences', { url: '/api/me/preferences', headers: as(me.token) }, 200);
    await answer('PUT /api/me/preferences/{id}', { url: `/api/me/preferences/${old.id}`, headers: as(me.token), payload: body }, 200);
    await answer('DELETE /api/me/preferences/{id}', { url: `/api/me/preferences/${old.id}`, headers: as(me.token) }, 204);
    await answer('DELETE /api/me/watches/{id}', { url: `/api/me/watches/${watch.id}`, headers: as(me.token) }, 204);
    await answer('DELETE /api/me/watches/{id}', { url: `/api/me/watches/${watch.id}`, headers: as(me.token) }, 404);
  });

  it('push subscriptions and quiet hours', async () => {
    const me = await t.signedIn();
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const sub = {
      endpoint: `https://push.example.net/wpush/${randomBytes(12).toString('base64url')}`,
      expirationTime: null,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    };
    await answer('GET /api/push/vapid-public-key', { url: '/api/push/vapid-public-key' }, 200);
    const saved = (await answer('POST /api/me/push-subscriptions', { url: '/api/me/push-subscriptions', headers: as(me.token), payload: sub }, 201)).json();
    await answer('POST /api/me/push-subscriptions', { url: '/api/me/push-subscriptions', headers: as(me.token), payload: sub }, 200);
    await answer('POST /api/me/push-subscriptions', { url: '/api/me/push-subscriptions', headers: as(me.token), payload: { ...sub, endpoint: 'http://localhost:1/x' } }, 400);
    await answer('DELETE /api/me/push-subscriptions/{id}', { url: `/api/me/push-subscriptions/${saved.subscription.id}`, headers: as(me.token) }, 204);
    await answer('DELETE /api/me/push-subscriptions/{id}', { url: `/api/me/push-subscriptions/${saved.subscription.id}`, headers: as(me.token) }, 404);
    await answer('DELETE /api/me/push-subscriptions', { url: '/api/me/push-subscriptions', headers: as(me.token), payload: { endpoint: sub.endpoint } }, 404);

    await answer('GET /api/me/quiet-hours', { url: '/api/me/quiet-hours', headers: as(me.token) }, 200);
    await answer('PUT /api/me/quiet-hours', { url: '/api/me/quiet-hours', headers: as(me.token), payload: { quietHours: { start: '22:00', end: '07:00' } } }, 200);
    await answer('GET /api/me/quiet-hours', { url: '/api/me/quiet-hours', headers: as(me.token) }, 200);
    await answer('PUT /api/me/quiet-hours', { url: '/api/me/quiet-hours', headers: as(me.token), payload: { quietHours: { start: '22:00', end: '22:00' } } }, 400);
    await answer('GET /api/me/alerts', { url: '/api/me/alerts?limit=5', headers: as(me.token) }, 200);
    await answer('GET /api/me/alerts', { url: '/api/me/alerts?before=nope', headers: as(me.token) }, 400);
    await answer('GET /api/me/alert-cap', { url: '/api/me/alert-cap', headers: as(me.token) }, 200);
    await answer('PUT /api/me/alert-cap', { url: '/api/me/alert-cap', headers: as(me.token), payload: { dailyCap: 5 } }, 200);
    await answer('PUT /api/me/alert-cap', { url: '/api/me/alert-cap', headers: as(me.token), payload: { dailyCap: 0 } }, 400);
  });

  it('operator and admin routes', async () => {
    const op = await t.signedIn('OPERATOR');
    const admin = await t.signedIn('ADMIN');
    const center = (await answer('POST /api/operator/centers', { url: '/api/operator/centers', headers: as(op.token), payload: { name: 'Doc', postcode: 'CB1 1AA', latitude: 52.2, longitude: 0.1 } }, 201)).json().center;
    await answer('POST /api/operator/specialists', { url: '/api/operator/specialists', headers: as(op.token), payload: { fullName: 'Nobody', serviceType: 'examiner', centerId: NOBODY } }, 422);
    const specialist = (await answer('POST /api/operator/specialists', { url: '/api/operator/specialists', headers: as(op.token), payload: { fullName: 'Pat', serviceType: 'examiner', centerId: center.id } }, 201)).json().specialist;
    const slot = (s: string, e: string) => ({ specialistId: specialist.id, testType: 'practical', startTime: s, endTime: e });
    await answer('POST /api/operator/slots', { url: '/api/operator/slots', headers: as(op.token), payload: { slots: [slot('2035-01-01T09:00:00Z', '2035-01-01T10:00:00Z')] } }, 201);
    await answer('POST /api/operator/slots', { url: '/api/operator/slots', headers: as(op.token), payload: { slots: [slot('2035-01-01T09:30:00Z', '2035-01-01T10:30:00Z')] } }, 409);
    await answer('POST /api/operator/slots', { url: '/api/operator/slots', headers: as((await t.signedIn()).token), payload: { slots: [] } }, 403);
    await answer('POST /api/operator/appointments/{id}/no-show', { url: `/api/operator/appointments/${NOBODY}/no-show`, headers: as(op.token) }, 404);

    await answer('GET /api/admin/config', { url: '/api/admin/config', headers: as(admin.token) }, 200);
    await answer('PUT /api/admin/config/{key}', { url: '/api/admin/config/hold_minutes', headers: as(admin.token), payload: { value: 7 } }, 200);
    await answer('PUT /api/admin/config/{key}', { url: '/api/admin/config/quiet_hours_default', headers: as(admin.token), payload: { value: { start: '23:00', end: '06:00' } } }, 200);
    await answer('PUT /api/admin/config/{key}', { url: '/api/admin/config/hold_minutes', headers: as(admin.token), payload: { value: 'soon' } }, 400);
    await answer('GET /api/admin/config/{key}', { url: '/api/admin/config/hold_minutes', headers: as(admin.token) }, 200);
    await answer('GET /api/admin/config/{key}', { url: '/api/admin/config/no_such_key', headers: as(admin.token) }, 404);
    const audit = await answer('GET /api/admin/audit-logs', { url: '/api/admin/audit-logs?limit=2', headers: as(admin.token) }, 200);
    expect(audit.json().items).toHaveLength(2);
    await answer('GET /api/admin/audit-logs', { url: '/api/admin/audit-logs', headers: as(op.token) }, 403);
  });

  it('health, readiness and metrics', async () => {
    await answer('GET /healthz', { url: '/healthz' }, 200);
    await answer('GET /readyz', { url: '/readyz' }, 200);
    await answer('GET /metrics', { url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } }, 200);
    await answer('GET /metrics', { url: '/metrics' }, 401);
    await recordHeartbeat(t.ctx.redis, t.config.QUEUE_PREFIX, 'poll-releases', Date.now() - 86_400_000);
    await answer('GET /readyz', { url: '/readyz' }, 503);
  });

  it('pages, files, the queue board and these docs', async () => {
    const me = await t.signedIn();
    await answer('GET /', { url: '/' }, 303);
    await answer('GET /signin', { url: '/signin' }, 200);
    await answer('GET /signup', { url: '/signup' }, 200);
    await answer('GET /verify', { url: '/verify' }, 200);
    await answer('GET /forgot-password', { url: '/forgot-password' }, 200);
    await answer('GET /reset-password', { url: '/reset-password' }, 200);
    await answer('GET /watches', { url: '/watches' }, 303);
    await answer('GET /watches', { url: '/watches', headers: { cookie: `sw_session=${me.token}` } }, 200);
    await answer('GET /appointments', { url: '/appointments', headers: { cookie: `sw_session=${me.token}` } }, 200);
    await answer('GET /alerts', { url: '/alerts', headers: { cookie: `sw_session=${me.token}` } }, 200);
    await answer('GET /alerts', { url: '/alerts' }, 303);
    await answer('POST /signout', { url: '/signout', headers: { cookie: `sw_session=${me.token}` }, payload: {} }, 403);
    await answer('GET /slots/{id}', { url: `/slots/${NOBODY}` }, 404);
    await answer('GET /sw.js', { url: '/sw.js' }, 200);
    await answer('GET /assets/{path}', { url: '/assets/api.js' }, 200);
    await answer('GET /assets/{path}', { url: '/assets/none.js' }, 404);
    await answer('GET /unsubscribe/{token}', { url: '/unsubscribe/not-a-token' }, 404);
    await answer('POST /unsubscribe/{token}', { url: '/unsubscribe/not-a-token' }, 404);
    await answer('GET /admin/login', { url: '/admin/login' }, 200);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await answer('POST /admin/login', { url: '/admin/login', headers: form, payload: 'email=nobody%40board.test&password=wrong' }, 401);
    await answer('POST /admin/logout', { url: '/admin/logout' }, 303);
    await answer('GET /admin/queues', { url: '/admin/queues', headers: { accept: 'text/html' } }, 303);
    await answer('GET /admin/queues', { url: '/admin/queues' }, 401);
    await answer('GET /admin/queues', { url: '/admin/queues', headers: { cookie: `sw_admin=${me.token}` } }, 403);
    await answer('GET /api/openapi.json', { url: '/api/openapi.json' }, 200);
    await answer('GET /api/docs', { url: '/api/docs' }, 200);
    await answer('GET /api/docs/json', { url: '/api/docs/json' }, 200);
    await answer('GET /api/docs/static/{path}', { url: '/api/docs/static/swagger-ui.css' }, 200);
  });
});
