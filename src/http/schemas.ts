/** Schema pieces routes share. Every object refuses unknown fields. */
import { Type, type Static, type TObject, type TProperties } from '@fastify/type-provider-typebox';
import type { preValidationHookHandler } from 'fastify';
import type { TestType as TestTypeValue } from '../slots/test-types.js';
import type { NotificationMethod as NotificationMethodValue } from '../watches/watches.js';
import { HttpError } from './errors.js';
import { documentHook } from './hook-docs.js';

/** An object schema that refuses fields it does not name. */
export function strictObject<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: false });
}

export const Uuid = Type.String({ format: 'uuid' });
export const DateTime = Type.String({ format: 'date-time', maxLength: 40 });

// the users_email_format check, so a bad address is a 400 here rather than a refusal there
export const Email = Type.String({ pattern: '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$', maxLength: 254 });

/** A slot's test type (slots/test-types.ts). */
export const TestType = Type.Union([Type.Literal('practical'), Type.Literal('theory')]);

/** How a learner is told (the notification_method enum). */
export const NotificationMethod = Type.Union([Type.Literal('email'), Type.Literal('push')]);

// the schemas above must say exactly what the capabilities' types say
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameTypes: [Same<Static<typeof TestType>, TestTypeValue>, Same<Static<typeof NotificationMethod>, NotificationMethodValue>] = [true, true];
void sameTypes;

/** `{ id }` path params. */
export const IdParams = strictObject({ id: Uuid });

/**
 * preValidation hook for POST routes that take no body: nothing, or `{}`. (A schema cannot
 * say "optional body": fastify validates an absent body as undefined against it.)
 */
export const noBody = documentHook<preValidationHookHandler>(
  async (request) => {
    const body = request.body;
    if (body === undefined || body === null) return;
    if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
    throw new HttpError('VALIDATION_ERROR', 'body must be empty: this route takes no fields');
  },
  { codes: ['VALIDATION_ERROR'] },
);
