/**
 * The keys the web process derives from SECRET_KEY, one per use, so that no two uses share
 * a key: the names of the rate-limit counters (an HMAC of the email address, so Redis holds
 * nothing a dictionary could turn back into an address) and the signature of the sign-in
 * device cookie. Nothing stored for long depends on them: rotating SECRET_KEY starts the
 * counters afresh and makes every device cookie unknown, and that is all.
 */
import { createHmac } from 'node:crypto';
import { ConfigError, type Config } from '../config.js';

export interface DerivedKeys {
  rateLimit: Buffer;
  deviceCookie: Buffer;
}

const derived = new WeakMap<Config, DerivedKeys>();

/** The keys for `config`; a ConfigError when SECRET_KEY is unset (the web process requires it at start). */
export function derivedKeys(config: Config): DerivedKeys {
  let keys = derived.get(config);
  if (keys) return keys;
  const secret = config.SECRET_KEY;
  if (!secret) throw new ConfigError('slotwatch: bad configuration: SECRET_KEY is not set; generate one with `npm run cli -- secret:generate`', 'SECRET_KEY');
  const derive = (use: string) => createHmac('sha256', secret).update(`slotwatch ${use} v1`).digest();
  keys = { rateLimit: derive('rate-limit'), deviceCookie: derive('device-cookie') };
  derived.set(config, keys);
  return keys;
}

/** The counter name of an email address: lower-cased, HMAC-SHA256 under the rate-limit key, 128 bits. */
export function emailDigest(config: Config, email: string): string {
  return createHmac('sha256', derivedKeys(config).rateLimit).update(email.toLowerCase()).digest('base64url').slice(0, 22);
}
