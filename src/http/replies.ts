/**
 * The response side of route schemas: `replies(ok, ...codes)` for a JSON route, the shapes
 * of pages and files, and the bodies several routes answer with. Our JSON bodies refuse
 * fields they do not name, so a field added without documenting it fails the tests.
 * Response schemas document; they do not serialise (app.ts keeps JSON.stringify).
 */
import { STATUS_CODES } from 'node:http';
import { Type, type TSchema } from '@fastify/type-provider-typebox';
import { ROLES } from '../accounts/roles.js';
import { ERROR_CODES, type ErrorCode, type StatusOf } from './error-codes.js';
import { DateTime, strictObject, Uuid } from './schemas.js';

/** `T` or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** The error body for `codes` (all of one status); the description names each code and what it means. */
export function errorReply(codes: readonly ErrorCode[]) {
  return Type.Object(
    {
      error: strictObject({
        code: Type.Unsafe<ErrorCode>({ type: 'string', enum: [...codes] }),
        message: Type.String({ description: 'For people; may change. Branch on `code`.' }),
      }),
    },
    { additionalProperties: false, description: codes.map((c) => `- \`${c}\`: ${ERROR_CODES[c].meaning}`).join('\n') },
  );
}

/** The codes an error reply made by errorReply lists, or none for any other schema. */
export function codesOf(schema: unknown): ErrorCode[] {
  const code = (schema as { properties?: { error?: { properties?: { code?: { enum?: unknown } } } } })?.properties?.error?.properties?.code;
  return Array.isArray(code?.enum) ? (code.enum as ErrorCode[]) : [];
}

/** Error replies for `codes`, one per status. */
export function errorReplies(codes: readonly ErrorCode[]): Record<number, ReturnType<typeof errorReply>> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].map(([status, list]) => [status, errorReply(list)]));
}

type ErrorReplies<C extends ErrorCode> = { [S in StatusOf<C>]: ReturnType<typeof errorReply> };

/**
 * A route's responses: its success bodies by status and the error codes its handler can
 * throw. Codes its hooks and its shape can answer (sign-in, rate limits, validation, bad
 * JSON...) are added to the document by route-docs.ts, so list only the handler's own.
 */
export function replies<R extends Record<number, unknown>, C extends ErrorCode = never>(ok: R, ...codes: C[]): R & ErrorReplies<C> {
  // a body without a description of its own is described by its status ("Created")
  const described = Object.entries(ok).map(([status, schema]) => [
    status,
    (schema as { description?: string }).description ? schema : { ...(schema as object), description: STATUS_CODES[status] },
  ]);
  return { ...Object.fromEntries(described), ...errorReplies(codes) } as R & ErrorReplies<C>;
}

/** A body of `mediaType` (an HTML page, a script, metrics text). */
export function content(description: string, mediaType: string, schema: TSchema = Type.String()) {
  return { description, content: { [mediaType]: { schema } } };
}

/** An HTML page. */
export const htmlPage = (description: string) => content(description, 'text/html', Type.String());

// a response with no body: type null tells the document so; undefined lets a handler send() nothing
const empty = (o: { description: string; headers?: Record<string, TSchema> }) => Type.Unsafe<undefined>({ type: 'null', ...o });

/** No body: a 204. */
export const noContent = empty({ description: 'Done; no content.' });

/** A redirect with no body; Location says where. */
export const redirect = (description: string) => empty({ description, headers: { location: Type.String({ description: 'Where to go next' }) } });

/** A signed-in user (accounts/roles.ts AuthUser). */
export const User = strictObject({ id: Uuid, email: Type.String(), role: Type.Enum(ROLES) });

/** An appointment (booking/appointments.ts AppointmentView). */
export const Appointment = strictObject({
  id: Uuid,
  slotId: Uuid,
  status: Type.Enum(['HOLD', 'CONFIRMED', 'CANCELLED', 'NO_SHOW']),
  priority: Type.Enum(['NORMAL', 'VIP', 'URGENT']),
  expiresAt: Nullable(DateTime),
  confirmedAt: Nullable(DateTime),
  cancelledAt: Nullable(DateTime),
  createdAt: DateTime,
});

export const AppointmentReply = strictObject({ appointment: Appointment });
