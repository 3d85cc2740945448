/** Admin API: GET /api/admin/audit-logs, GET /api/admin/config[/:key], PUT /api/admin/config/:key. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listAudit } from '../../audit/audit.js';
import { withTransaction } from '../../db/transaction.js';
import { isSettingKey, SETTINGS } from '../../settings/definitions.js';
import { readSettings } from '../../settings/settings.js';
import { InvalidSettingError, updateSetting } from '../../settings/update.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { strictObject } from '../schemas.js';
import { AuditPage, AuditQuery, KeyParams, PutBody, Setting } from './admin-schemas.js';

const knownKeys = Object.keys(SETTINGS).join(', ');

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, config } = app.deps;
  const admin = app.requireRole('ADMIN');
  const tags = tag('Admin');
  const SettingReply = strictObject({ setting: Setting });

  const auditSchema = {
    tags,
    summary: 'The audit log, newest first, filtered and paged by id',
    querystring: AuditQuery,
    response: replies({ 200: AuditPage }, 'VALIDATION_ERROR'),
  };
  app.get('/api/admin/audit-logs', { onRequest: admin, schema: auditSchema }, async (request) => {
    const q = request.query;
    const from = q.from ? new Date(q.from) : undefined;
    const to = q.to ? new Date(q.to) : undefined;
    if (from && to && from >= to) throw new HttpError('VALIDATION_ERROR', 'querystring/from must be before querystring/to');
    const page = await listAudit(pool, { userId: q.userId, action: q.action, from, to, before: q.before, limit: q.limit ?? 50 });
    return { items: page.items, next: page.nextBefore === null ? null : { before: page.nextBefore } };
  });

  const listSchema = { tags, summary: 'Every runtime setting: its value now and where it comes from', response: replies({ 200: strictObject({ settings: Type.Array(Setting) }) }) };
  app.get('/api/admin/config', { onRequest: admin, schema: listSchema }, async () => ({ settings: Object.values(await readSettings(pool, config)) }));

  const getSchema = { tags, summary: 'One runtime setting', params: KeyParams, response: replies({ 200: SettingReply }, 'UNKNOWN_SETTING') };
  app.get('/api/admin/config/:key', { onRequest: admin, schema: getSchema }, async (request) => {
    const { key } = request.params;
    if (!isSettingKey(key)) throw new HttpError('UNKNOWN_SETTING', `no setting named "${key}" (settings: ${knownKeys})`);
    return { setting: (await readSettings(pool, config))[key] };
  });

  const putSchema = {
    tags,
    summary: 'Change a runtime setting; running processes pick it up within seconds (audited)',
    params: KeyParams,
    body: PutBody,
    response: replies({ 200: SettingReply }, 'UNKNOWN_SETTING', 'VALIDATION_ERROR', 'INVALID_SETTING'),
  };
  app.put('/api/admin/config/:key', { onRequest: admin, schema: putSchema }, async (request) => {
    const { key } = request.params;
    if (!isSettingKey(key)) throw new HttpError('UNKNOWN_SETTING', `no setting named "${key}" (settings: ${knownKeys})`);
    if (!('value' in request.body)) throw new HttpError('VALIDATION_ERROR', 'body is missing required field "value"');
    try {
      await withTransaction(pool, (tx) => updateSetting(tx, key, request.body.value, { userId: userOf(request).id, ip: request.ip }));
    } catch (err) {
      if (err instanceof InvalidSettingError) throw new HttpError('INVALID_SETTING', err.message);
      throw err;
    }
    return { setting: (await readSettings(pool, config))[key] };
  });
};
