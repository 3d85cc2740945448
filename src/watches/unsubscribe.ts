/** One-click unsubscribe (RFC 8058): a watch's random token switches off that watch alone. */
import type { Queryable } from '../db/types.js';

/** Tokens are 64 lowercase hex characters (two v4 UUIDs, see migration 0009). */
export const UNSUBSCRIBE_TOKEN = /^[0-9a-f]{64}$/;

export interface UnsubscribeTarget {
  watchId: string;
  label: string | null;
  radiusMiles: number;
  postcode: string | null;
  isActive: boolean;
}

/** The watch a token belongs to, or null for an unknown (or malformed) token. */
export async function findWatchByToken(db: Queryable, token: string): Promise<UnsubscribeTarget | null> {
  if (!UNSUBSCRIBE_TOKEN.test(token)) return null;
  const { rows } = await db.query<{ id: string; label: string | null; radius_miles: string; postcode: string | null; is_active: boolean }>(
    `SELECT id, label, radius_miles, postcode, is_active FROM user_preferences WHERE unsubscribe_token = $1::text`,
    [token],
  );
  const r = rows[0];
  return r ? { watchId: r.id, label: r.label, radiusMiles: Number(r.radius_miles), postcode: r.postcode, isActive: r.is_active } : null;
}

/** Switches the token's watch off; null for an unknown token. Repeating it is harmless. */
export async function unsubscribeByToken(db: Queryable, token: string): Promise<UnsubscribeTarget | null> {
  if (!UNSUBSCRIBE_TOKEN.test(token)) return null;
  const { rows } = await db.query<{ id: string; label: string | null; radius_miles: string; postcode: string | null }>(
    `UPDATE user_preferences SET is_active = false WHERE unsubscribe_token = $1::text
     RETURNING id, label, radius_miles, postcode`,
    [token],
  );
  const r = rows[0];
  return r ? { watchId: r.id, label: r.label, radiusMiles: Number(r.radius_miles), postcode: r.postcode, isActive: false } : null;
}
