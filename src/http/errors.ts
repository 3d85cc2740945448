/**
 * The one error shape clients see: `{"error":{"code","message"}}`. Routes and capabilities
 * throw HttpError for anything the caller did wrong; the central handler in app.ts maps
 * validation failures and hides every 5xx detail. Codes come from the catalogue
 * (error-codes.ts), which also gives each its status, so the two cannot disagree.
 */
import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export class HttpError extends Error {
  override name = 'HttpError';
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.statusCode = ERROR_CODES[code].status;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** The JSON body for an error code and message. */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

interface SchemaError {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * One line naming the field for a failed schema validation, e.g. `body/latitude must be
 * <= 90` or `body has unknown field "extra"`. `part` is fastify's validationContext.
 */
export function describeValidation(part: string, errors: SchemaError[]): string {
  const field = (e: SchemaError) => `${part}${e.instancePath ?? ''}`;
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown) {
    const names = (unknown.params?.additionalProperties as string[] | undefined) ?? [];
    return `${field(unknown)} has unknown field${names.length > 1 ? 's' : ''} ${names.map((n) => JSON.stringify(n)).join(', ')}`;
  }
  const required = errors.find((e) => e.keyword === 'required');
  if (required) {
    const names = (required.params?.requiredProperties as string[] | undefined) ?? [];
    return `${field(required)} is missing required field${names.length > 1 ? 's' : ''} ${names.map((n) => JSON.stringify(n)).join(', ')}`;
  }
  // a union of literals reports one "const" failure per member and then "anyOf": name the choices
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  if (anyOf) {
    const allowed = errors
      .filter((e) => e.keyword === 'const' && e.instancePath === anyOf.instancePath)
      .map((e) => JSON.stringify(e.params?.allowedValue));
    if (allowed.length) return `${field(anyOf)} must be one of ${allowed.join(', ')}`;
  }
  const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  if (!first) return `${part} is invalid`;
  return `${field(first)} ${first.message ?? 'is invalid'}`;
}
