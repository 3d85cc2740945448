/**
 * Postcode -> point, offline. No package on the npm registry ships UK postcode or outcode
 * centroids (the UK postcode packages there only parse and validate, or call online APIs),
 * and we will not invent coordinates, so the one honest offline source is the database
 * itself: the postcodes of the test centres, with their published coordinates. A
 * postcode no centre has is refused with a message saying to give a location instead.
 */
import type { Queryable } from '../db/types.js';

// the shapes of a UK postcode (outward code, a space, inward code), GIR 0AA included
const UK_POSTCODE = /^(GIR ?0AA|[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2})$/;

/** "sw1a1aa " -> "SW1A 1AA", or null when it is not shaped like a UK postcode. */
export function normalisePostcode(input: string): string | null {
  const compact = input.toUpperCase().replace(/\s+/g, '');
  if (!UK_POSTCODE.test(compact)) return null;
  return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
}

/** The point of a postcode we can place offline (a test centre's), or null. */
export async function locatePostcode(db: Queryable, postcode: string): Promise<{ latitude: number; longitude: number } | null> {
  const { rows } = await db.query<{ latitude: number; longitude: number }>(
    `SELECT latitude, longitude FROM test_centers
      WHERE upper(replace(postcode, ' ', '')) = $1::text
      ORDER BY is_active DESC, created_at
      LIMIT 1`,
    [postcode.replace(' ', '')],
  );
  return rows[0] ?? null;
}
