/** Admin API: GET /api/admin/audit-logs, GET /api/admin/config[/:key], PUT /api/admin/config/:key. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listAudit } from '../../audit/audit.js';
import { withTransaction } from '../../db/transaction.js';
import { isSettingKey, SETTINGS } from '../../settings/definitions.js';
import { readSettings } from '../../settings/settings.js';
import { InvalidSettingError, updateSetting } from '../../settings/update.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { DateTime, strictObject, Uuid } from '../schemas.js';

const AuditQuery = strictObject({
  userId: Type.Optional(Uuid),
  action: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_.:-]{1,80}$' })),
  from: Type.Optional(DateTime),
  to: Type.Optional(DateTime),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});
const KeyParams = strictObject({ key: Type.String({ pattern: '^[a-z][a-z0-9_]{1,60}$' }) });
const PutBody = strictObject({ value: Type.Unknown() });

const knownKeys = Object.keys(SETTINGS).join(', ');

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, config } = app.deps;
  const admin = app.requireRole('ADMIN');

  app.get('/api/admin/audit-logs', { onRequest: admin, schema: { querystring: AuditQuery } }, async (request) => {
    const q = request.query;
    const from = q.from ? new Date(q.from) : undefined;
    const to = q.to ? new Date(q.to) : undefined;
    if (from && to && from >= to) throw new HttpError('VALIDATION_ERROR', 'querystring/from must be before querystring/to');
    const page = await listAudit(pool, { userId: q.userId, action: q.action, from, to, before: q.before, limit: q.limit ?? 50 });
    return { items: page.items, next: page.nextBefore === null ? null : { before: page.nextBefore } };
  });

  app.get('/api/admin/config', { onRequest: admin }, async () => ({ settings: Object.values(await readSettings(pool, config)) }));

  app.get('/api/admin/config/:key', { onRequest: admin, schema: { params: KeyParams } }, async (request) => {
    const { key } = request.params;
    if (!isSettingKey(key)) throw new HttpError('UNKNOWN_SETTING', `no setting named "${key}" (settings: ${knownKeys})`);
    return { setting: (await readSettings(pool, config))[key] };
  });

  app.put('/api/admin/config/:key', { onRequest: admin, schema: { params: KeyParams, body: PutBody } }, async (request) => {
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
