/**
 * The account fields' rules as the routes apply them, so sign-up, reset and change refuse
 * the same things in the same words: names (accounts/names.ts), new passwords
 * (accounts/password-policy.ts), and hashing a new password within the process's bound.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HashLaneFullError } from '../../accounts/hash-lane.js';
import { NAME_RULE, normaliseName } from '../../accounts/names.js';
import { PASSWORD_MIN_LENGTH, passwordProblem } from '../../accounts/password-policy.js';
import { HttpError } from '../errors.js';
import { strictObject } from '../schemas.js';

/** A password being chosen: length here, the rest by checkNewPassword. */
export const NewPassword = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: 200 });
/** A name as sent; checkedName applies the rule. */
export const Name = Type.String({ minLength: 1, maxLength: 100, description: `Trimmed; ${NAME_RULE}.` });
/** A link's token, from the fragment of the emailed link. */
export const LinkToken = Type.String({ minLength: 1, maxLength: 100 });
/** The answer to every request that may mail an address: the same whatever the address. */
export const CheckInbox = strictObject({ message: Type.String() });

/** The name trimmed, or a 400 naming `field`; undefined stays undefined. */
export function checkedName(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const name = normaliseName(value);
  if (name === null) throw new HttpError('VALIDATION_ERROR', `body/${field} ${NAME_RULE}`);
  return name;
}

/** A 400 naming `field` when the password may not be chosen. */
export async function checkNewPassword(password: string, field: string): Promise<void> {
  const problem = await passwordProblem(password);
  if (problem) throw new HttpError('WEAK_PASSWORD', `body/${field} ${problem}`);
}

const BUSY_RETRY_SECONDS = 5;

/** Hashes a new password within the app's bound; a 503 with Retry-After when its queue is full. */
export async function hashNewPassword(app: FastifyInstance, password: string): Promise<string> {
  try {
    return await app.hashLane.hash(password);
  } catch (err) {
    if (err instanceof HashLaneFullError) {
      throw new HttpError('SERVER_BUSY', `too many passwords are being set right now; try again in ${BUSY_RETRY_SECONDS} s`, { 'retry-after': String(BUSY_RETRY_SECONDS) });
    }
    throw err;
  }
}
