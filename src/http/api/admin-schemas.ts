/** The schemas of the admin routes (admin.ts): the audit log's query and rows, and the settings. */
import { Type } from '@fastify/type-provider-typebox';
import { z } from 'zod';
import { SETTINGS, type SettingKey } from '../../settings/definitions.js';
import type { SettingRow } from '../../settings/settings.js';
import { Nullable } from '../replies.js';
import { DateTime, strictObject, Uuid } from '../schemas.js';

export const AuditQuery = strictObject({
  userId: Type.Optional(Uuid),
  action: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_.:-]{1,80}$' })),
  from: Type.Optional(DateTime),
  to: Type.Optional(DateTime),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});
export const KeyParams = strictObject({ key: Type.String({ pattern: '^[a-z][a-z0-9_]{1,60}$' }) });
export const PutBody = strictObject({ value: Type.Unknown({ description: 'The new value, of the type the setting takes (see the answers of GET /api/admin/config)' }) });

/** A timestamp the handler holds as a Date, which JSON.stringify writes as ISO 8601. */
const Timestamp = Type.Unsafe<Date>({ type: 'string', format: 'date-time' });

/** A row of the audit log (audit/audit.ts AuditRow). */
const AuditRow = strictObject({
  id: Type.Integer(),
  userId: Nullable(Uuid),
  action: Type.String(),
  entityType: Nullable(Type.String()),
  entityId: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown(), { description: 'What the action recorded; its fields depend on the action' }),
  ip: Nullable(Type.String()),
  createdAt: Timestamp,
});

export const AuditPage = strictObject({
  items: Type.Array(AuditRow),
  next: Nullable(strictObject({ before: Type.Integer({ description: 'Pass as `before` for the next, older page' }) })),
});

// one shape per setting, each value with its own rule: the rule's JSON Schema, from its zod schema
const settingShapes = (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
  const { $schema: _, ...value } = z.toJSONSchema(SETTINGS[key].schema, { io: 'output' }) as Record<string, unknown>;
  return strictObject({
    key: Type.Literal(key),
    value: Type.Unsafe(value),
    source: Type.Enum(['database', 'environment'], { description: 'Where the value comes from: a change an admin made, or the environment default' }),
    description: Type.String(),
    updatedAt: Nullable(Timestamp),
    updatedBy: Nullable(Uuid),
  });
});

/** A runtime setting (settings/settings.ts SettingRow); typed as the row, since a union built in a loop has no useful static type. */
export const Setting = Type.Unsafe<SettingRow>(Type.Union(settingShapes));
