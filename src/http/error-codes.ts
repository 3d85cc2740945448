/**
 * Every error code the HTTP API can answer, with its status and what it means, in one
 * place: HttpError takes only these codes, the OpenAPI document lists them, and
 * docs/errors.md is generated from them (`npm run cli -- docs:errors`).
 * A new code is a new entry here first.
 */
import { BOOKING_REFUSALS } from '../booking/errors.js';

export interface ErrorCodeEntry {
  status: number;
  meaning: string;
}

export const ERROR_CODES = {
  // the request itself: fastify's own refusals and the checks every route shares (app.ts)
  VALIDATION_ERROR: { status: 400, meaning: 'A field of the body, query string, path or headers is missing, unknown, of the wrong type or out of range; the message names it, e.g. `body/latitude must be <= 90`.' },
  INVALID_JSON: { status: 400, meaning: 'The body is not valid JSON.' },
  BAD_CONTENT_LENGTH: { status: 400, meaning: 'The Content-Length header does not match the body sent.' },
  BAD_URL: { status: 400, meaning: 'The URL is malformed (for example a broken percent-encoding).' },
  BAD_REQUEST: { status: 400, meaning: 'Any other request fastify itself refuses; the message says why, and the status is the one fastify chose (usually 400).' },
  INVALID_VALUE: { status: 400, meaning: 'A value passed validation but the database refused it as out of range or malformed. A gap in our validation: please report it.' },
  NOT_FOUND: { status: 404, meaning: 'No route answers this method and path, or the thing named does not exist (or is not yours: someone else\'s is never a 403).' },
  METHOD_NOT_ALLOWED: { status: 405, meaning: 'The path exists but not for this method.' },
  BODY_TOO_LARGE: { status: 413, meaning: 'The body is larger than the server accepts (BODY_LIMIT_BYTES).' },
  URI_TOO_LONG: { status: 414, meaning: 'A path parameter is longer than 100 characters.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The body\'s Content-Type is not one this route reads; send `application/json`.' },
  SERVER_BUSY: { status: 503, meaning: 'Too many passwords are being set on this server right now (sign-ups, resets, changes); nothing was changed. Wait the seconds the Retry-After header gives and send the same request again.' },
  SERVICE_UNAVAILABLE: { status: 503, meaning: 'Signing in, signing up, account email or a password check is refused for a moment because its rate limits cannot be checked (Redis is not answering); nothing was done. Wait the seconds the Retry-After header gives and send the same request again.' },
  DEPENDENCY_UNAVAILABLE: { status: 503, meaning: 'The database or Redis is not answering for a moment (a restart, a failover); the request may not have been completed. Wait the seconds the Retry-After header gives and send the same request again (with the same Idempotency-Key, where the route takes one).' },
  RATE_LIMITED: { status: 429, meaning: 'Too many requests of this kind in the last minute; wait the seconds the Retry-After header gives.' },
  INTERNAL_ERROR: { status: 500, meaning: 'Something failed on our side; nothing about it is disclosed. Try again; if it keeps happening it is a bug.' },

  // who is asking (auth.ts, session.ts, login.ts)
  UNAUTHENTICATED: { status: 401, meaning: 'No live session: send `Authorization: Bearer <token>` from POST /api/auth/login (or the `sw_session` cookie). The token may have expired or been revoked.' },
  INVALID_CREDENTIALS: { status: 401, meaning: 'The email or password is wrong (which one is not said).' },
  FORBIDDEN: { status: 403, meaning: 'Signed in, but this needs another role (OPERATOR or ADMIN).' },
  CSRF_INVALID: { status: 403, meaning: 'A change signed in by the `sw_session` cookie did not carry the page\'s CSRF token in `x-csrf-token`; reload the page and try again.' },

  // accounts, watches, push
  WEAK_PASSWORD: { status: 400, meaning: 'The new password is only spaces or one of the most common passwords (which are tried first); the message names the field. Choose another.' },
  WRONG_PASSWORD: { status: 400, meaning: 'The password given to confirm a change (`currentPassword` to change it, `password` to delete the account) is not the account\'s password; nothing was changed.' },
  LINK_INVALID: { status: 400, meaning: 'The link\'s token is not one slotwatch sent (perhaps it was copied only in part); open the link from the email again, or ask for a new one.' },
  LINK_EXPIRED: { status: 410, meaning: 'The link has expired (a verification link lasts 48 hours, a password reset link 30 minutes); ask for a new one.' },
  LINK_USED: { status: 410, meaning: 'The link has been used already (each works once, and using one spends the older ones); ask for a new one if you still need it.' },
  TOO_MANY_WATCHES: { status: 409, meaning: 'The user already keeps the most watches allowed (20); delete one first.' },
  INVALID_POSTCODE: { status: 400, meaning: 'The postcode is not in the shape of a UK postcode (or of an outward code alone, such as `SW1A`).' },
  UNKNOWN_POSTCODE: { status: 400, meaning: 'The postcode is well formed but its outward code is not one of the UK\'s (nor is the postcode imported), so it cannot be placed; check it, or give `location {latitude, longitude}` instead.' },
  PUSH_NOT_CONFIGURED: { status: 404, meaning: 'This server has no VAPID key, so web push is off; choose email alerts.' },
  INVALID_SUBSCRIPTION: { status: 400, meaning: 'The push subscription\'s endpoint or keys are not ones a browser\'s push service would give: the endpoint must be https on port 443, without credentials, at a host that resolves only to public addresses; the message says which rule it breaks.' },

  // slots and booking (the refusals of booking/errors.ts keep the status booking gives them)
  SLOT_NOT_FOUND: { status: BOOKING_REFUSALS.SLOT_NOT_FOUND, meaning: 'No slot has this id.' },
  SLOT_UNAVAILABLE: { status: BOOKING_REFUSALS.SLOT_UNAVAILABLE, meaning: 'The slot is held or booked by someone else, or has already started.' },
  ALREADY_HOLDING: { status: BOOKING_REFUSALS.ALREADY_HOLDING, meaning: 'The user already holds another slot; confirm or cancel that hold first.' },
  ALREADY_BOOKED: { status: BOOKING_REFUSALS.ALREADY_BOOKED, meaning: 'The user already has a booking (or a hold) of this test type whose test has not yet taken place; the message says which. One at a time per test type: cancel it first.' },
  REHOLD_TOO_SOON: { status: BOOKING_REFUSALS.REHOLD_TOO_SOON, meaning: 'The user\'s own hold on this slot ended unconfirmed (it expired or was cancelled) moments ago, and the slot goes to others first (`rehold_cooldown_seconds`); wait the seconds the Retry-After header gives.' },
  OVERLAPPING_APPOINTMENT: { status: BOOKING_REFUSALS.OVERLAPPING_APPOINTMENT, meaning: 'The user already has an appointment at an overlapping time.' },
  IDEMPOTENCY_KEY_REUSED: { status: BOOKING_REFUSALS.IDEMPOTENCY_KEY_REUSED, meaning: 'This Idempotency-Key was already used for a different request; use a new key.' },
  APPOINTMENT_NOT_FOUND: { status: BOOKING_REFUSALS.APPOINTMENT_NOT_FOUND, meaning: 'No appointment with this id (that you may see).' },
  HOLD_EXPIRED: { status: BOOKING_REFUSALS.HOLD_EXPIRED, meaning: 'The hold ran out before it was confirmed; hold the slot again if it is still free.' },
  APPOINTMENT_NOT_ACTIVE: { status: BOOKING_REFUSALS.APPOINTMENT_NOT_ACTIVE, meaning: 'The appointment is not in a state that allows this (e.g. cancelling a cancelled one, a no-show before confirmation).' },

  // operators and admins
  UNKNOWN_CENTER: { status: 422, meaning: 'The centre named does not exist or is no longer active.' },
  UNKNOWN_SPECIALIST: { status: 422, meaning: 'A slot names an examiner who does not exist or is no longer active; the message says which slot.' },
  SLOT_OVERLAP: { status: 409, meaning: 'Two slots of the batch, or a slot and an existing one, put one examiner in two places at once; nothing was created.' },
  UNKNOWN_SETTING: { status: 404, meaning: 'No runtime setting has this key; the message lists the keys.' },
  INVALID_SETTING: { status: 400, meaning: 'The value is not allowed for this setting; the message says what is.' },

  // health
  NOT_READY: { status: 503, meaning: 'PostgreSQL or Redis is not answering, so this process should get no traffic.' },
  POLLER_STALLED: { status: 503, meaning: 'The release poller has not completed a poll for more than 5 poll intervals, so alerts are not going out.' },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The status an error code is answered with. */
export type StatusOf<C extends ErrorCode> = (typeof ERROR_CODES)[C]['status'];

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as ErrorCode[];

/** docs/errors.md: the catalogue as a table, with how to regenerate it. */
export function errorsMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = ERROR_CODE_NAMES.map((code) => `| \`${code}\` | ${ERROR_CODES[code].status} | ${cell(ERROR_CODES[code].meaning)} |`);
  return `<!-- Generated from src/http/error-codes.ts by \`npm run cli -- docs:errors\`; edit the catalogue, not this file. -->
# Error codes

Every error the API answers has the body \`{"error":{"code":"...","message":"..."}}\`. The
\`code\` is one of these and is stable: branch on it. The \`message\` is for people and may
change. Each route's own list is in the OpenAPI document (\`GET /api/openapi.json\`, or
browse it at \`/api/docs\`).

| Code | Status | Meaning |
| --- | --- | --- |
${rows.join('\n')}
`;
}
