/** The schemas of the privacy routes (privacy.ts): the data export, and the erasure's body. */
import { Type } from '@fastify/type-provider-typebox';
import { ROLES } from '../../accounts/roles.js';
import { ALERT_STATUSES } from '../../alerts/state.js';
import { Nullable } from '../replies.js';
import { DateTime, NotificationMethod, strictObject, Uuid } from '../schemas.js';
import { AppointmentWithSlot } from './appointments.js';
import { Watch } from './watch-schemas.js';

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });

/** privacy/export.ts AccountExport. */
export const AccountExport = strictObject({
  exportedAt: DateTime,
  account: strictObject({
    id: Uuid,
    email: Type.String(),
    firstName: Nullable(Type.String()),
    lastName: Nullable(Type.String()),
    role: Type.Enum(ROLES),
    priority: Type.Enum(['NORMAL', 'VIP', 'URGENT']),
    isActive: Type.Boolean(),
    createdAt: DateTime,
    updatedAt: DateTime,
    emailVerifiedAt: Nullable(DateTime),
    quietHours: Nullable(strictObject({ start: HHMM, end: HHMM })),
  }),
  watches: Type.Array(Watch),
  pushSubscriptions: Type.Array(
    strictObject({
      id: Uuid,
      endpoint: Type.String(),
      keys: strictObject({ p256dh: Type.String(), auth: Type.String() }),
      userAgent: Nullable(Type.String()),
      isActive: Type.Boolean(),
      createdAt: DateTime,
      lastSuccessAt: Nullable(DateTime),
      lastFailureAt: Nullable(DateTime),
      failureReason: Nullable(Type.String()),
    }),
  ),
  alerts: Type.Array(
    strictObject({
      id: Uuid,
      slotId: Uuid,
      watchId: Nullable(Uuid),
      distanceMiles: Nullable(Type.Number({ minimum: 0 })),
      status: Type.Enum([...ALERT_STATUSES]),
      channel: Nullable(NotificationMethod),
      messageId: Nullable(Uuid),
      attempts: Type.Integer({ minimum: 0 }),
      lastError: Nullable(Type.String()),
      createdAt: DateTime,
      sentAt: Nullable(DateTime),
    }),
  ),
  // the emails and pushes that carried the alerts: one alert each, or a digest of several
  alertMessages: Type.Array(
    strictObject({
      id: Uuid,
      kind: Type.Enum(['single', 'digest']),
      status: Type.Enum(['PENDING', 'SENDING', 'SENT', 'SKIPPED', 'FAILED']),
      channel: Nullable(NotificationMethod),
      attempts: Type.Integer({ minimum: 0 }),
      lastError: Nullable(Type.String()),
      createdAt: DateTime,
      sentAt: Nullable(DateTime),
    }),
  ),
  appointments: Type.Array(
    Type.Object(
      {
        ...AppointmentWithSlot.properties,
        events: Type.Array(
          strictObject({
            type: Type.String(),
            fromStatus: Nullable(Type.String()),
            toStatus: Nullable(Type.String()),
            actor: Type.Enum(['user', 'operator', 'admin', 'system']),
            createdAt: DateTime,
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ),
  sessions: Type.Array(strictObject({ createdAt: DateTime, expiresAt: DateTime, revokedAt: Nullable(DateTime), ip: Nullable(Type.String()) })),
  auditEntries: Type.Array(
    strictObject({
      id: Type.Integer(),
      action: Type.String(),
      entityType: Nullable(Type.String()),
      entityId: Nullable(Type.String()),
      details: Type.Unknown({ description: 'What the entry recorded, as it was recorded' }),
      by: Type.Enum(['you', 'someone else', 'system']),
      ip: Nullable(Type.String({ description: 'Your address, for what you did; never someone else\'s' })),
      createdAt: DateTime,
    }),
  ),
});

/** DELETE /api/me: the account's password, asked for again. */
export const EraseBody = strictObject({ password: Type.String({ minLength: 1, maxLength: 200 }) });
