/** One-click unsubscribe (RFC 8058): a watch's random token switches off that watch alone. */
import type { Queryable } from '../db/types.js';
import { deactivateWatchByToken, UNSUBSCRIBE_COLUMNS } from './watches.js';

/** Tokens are 64 lowercase hex characters (two v4 UUIDs' worth of randomness). */
export const UNSUBSCRIBE_TOKEN = /^[0-9a-f]{64}$/;

export interface UnsubscribeTarget {
  watchId: string;
  label: string | null;
  radiusMiles: number;
  postcode: string | null;
  isActive: boolean;
}

type Row = { id: string; label: string | null; radius_miles: string; postcode: string | null; is_active: boolean };

const toTarget = (r: Row): UnsubscribeTarget => ({ watchId: r.id, label: r.label, radiusMiles: Number(r.radius_miles), postcode: r.postcode, isActive: r.is_active });

/** The watch a token belongs to, or null for an unknown (or malformed) token. */
export async function findWatchByToken(db: Queryable, token: string): Promise<UnsubscribeTarget | null> {
  if (!UNSUBSCRIBE_TOKEN.test(token)) return null;
  const { rows } = await db.query<Row>(`SELECT ${UNSUBSCRIBE_COLUMNS} FROM user_preferences WHERE unsubscribe_token = $1::text`, [token]);
  return rows[0] ? toTarget(rows[0]) : null;
}

/** Switches the token's watch off; null for an unknown token. Repeating it is harmless. */
export async function unsubscribeByToken(db: Queryable, token: string): Promise<UnsubscribeTarget | null> {
  if (!UNSUBSCRIBE_TOKEN.test(token)) return null;
  const row = await deactivateWatchByToken(db, token);
  return row ? toTarget(row) : null;
}
