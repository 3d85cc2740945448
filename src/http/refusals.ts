/** Capability refusals as HTTP errors (each carries its own 4xx status and code). */
import { BookingRefusal } from '../booking/errors.js';
import { SlotBatchError } from '../slots/time-slots.js';
import { HttpError } from './errors.js';

/** Runs `fn`, turning the refusals capabilities throw into HttpErrors. */
export async function mapRefusals<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // each code's status is the catalogue's (error-codes.ts), which takes booking's own for its refusals
    if (err instanceof BookingRefusal) {
      throw new HttpError(err.code, err.message, err.retryAfterSeconds === undefined ? {} : { 'retry-after': String(err.retryAfterSeconds) });
    }
    if (err instanceof SlotBatchError) throw new HttpError(err.code, err.message);
    throw err;
  }
}

/** A Date from a validated date-time string, or a 400 naming the field (e.g. a leap second). */
export function parseDate(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9999) {
    throw new HttpError('VALIDATION_ERROR', `${field} must be a date-time between 1970 and 9999`);
  }
  return d;
}
