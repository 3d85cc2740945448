/**
 * GET /api/me/alerts: the signed-in learner's alerts, newest first, paged by id the way
 * the audit log is; GET/PUT /api/me/alert-cap: their own cap on messages per day.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getAlertDailyCap, setAlertDailyCap } from '../../accounts/users.js';
import { listUserAlerts, type UserAlert as UserAlertType } from '../../alerts/list.js';
import { userOf } from '../auth.js';
import { Nullable, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { strictObject, TestType, Uuid } from '../schemas.js';

/** A timestamp the handler holds as a Date, which JSON.stringify writes as ISO 8601. */
const Timestamp = Type.Unsafe<Date>({ type: 'string', format: 'date-time' });

const AlertsQuery = strictObject({
  before: Type.Optional(Uuid),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});

const UserAlert = strictObject({
  id: Uuid,
  slot: strictObject({ id: Uuid, centre: Type.String(), testType: TestType, startTime: Timestamp, free: Type.Boolean({ description: 'Still free to hold now' }) }),
  status: Type.Unsafe<UserAlertType['status']>({ type: 'string', enum: ['pending', 'sending', 'sent', 'digested', 'skipped', 'capped', 'failed'] }),
  reason: Nullable(Type.String({ description: 'Why it was skipped or failed' })),
  message: Nullable(
    strictObject({
      id: Uuid,
      kind: Type.Union([Type.Literal('single'), Type.Literal('digest')]),
      status: Type.Unsafe<NonNullable<UserAlertType['message']>['status']>({ type: 'string', enum: ['pending', 'sending', 'sent', 'skipped', 'failed'] }),
      channel: Nullable(Type.Union([Type.Literal('email'), Type.Literal('push')])),
      sentAt: Nullable(Timestamp),
    }),
  ),
  createdAt: Timestamp,
});
const AlertsPage = strictObject({
  items: Type.Array(UserAlert),
  next: Nullable(strictObject({ before: Type.String({ description: 'Pass as `before` for the next, older page' }) })),
});
const CapBody = strictObject({
  dailyCap: Nullable(Type.Integer({ minimum: 1, maximum: 1000, description: 'Most alert messages a day (Europe/London); null keeps the service\'s cap' })),
});

const tags = tag('Alerts');

export const myAlertsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;

  const listSchema = {
    tags,
    summary: 'Your alerts, newest first: each slot and what became of it (sent, in a digest, skipped, capped)',
    querystring: AlertsQuery,
    response: replies({ 200: AlertsPage }, 'VALIDATION_ERROR'),
  };
  app.get('/api/me/alerts', { onRequest: app.authenticate, schema: listSchema }, async (request) => {
    const page = await listUserAlerts(pool, userOf(request).id, { before: request.query.before, limit: request.query.limit ?? 50 });
    return { items: page.items, next: page.nextBefore === null ? null : { before: page.nextBefore } };
  });

  const getCap = { tags, summary: 'Your own cap on alert messages per day, or null', response: replies({ 200: CapBody }) };
  app.get('/api/me/alert-cap', { onRequest: app.authenticate, schema: getCap }, async (request) => ({ dailyCap: await getAlertDailyCap(pool, userOf(request).id) }));

  const putCap = {
    tags,
    summary: 'Set your own cap on alert messages per day (null keeps the service\'s)',
    description: 'Only a cap below the service\'s alert_daily_cap makes a difference. Alerts over the cap are kept on your alerts page, not sent.',
    body: CapBody,
    response: replies({ 200: CapBody }, 'VALIDATION_ERROR'),
  };
  app.put('/api/me/alert-cap', { onRequest: app.authenticate, schema: putCap }, async (request) => {
    const user = userOf(request);
    await setAlertDailyCap(pool, user.id, request.body.dailyCap);
    return { dailyCap: await getAlertDailyCap(pool, user.id) };
  });
};
