/**
 * Postcode -> point, offline. A full postcode an operator has imported (the postcodes
 * table, `npm run cli -- postcodes:import`) gives its own point; any other postcode of a
 * known outward code, or a bare outward code, gives the centre of that outward code (shipped
 * with the code, outcodes.ts). The caller is told which it got, as the precision.
 */
import type { Queryable } from '../db/types.js';
import { outcodeCentroid, type Point } from './outcodes.js';

/** How precisely a postcode was placed: at its own point, or at the centre of its outward code. */
export type Precision = 'postcode' | 'outcode';

/** A postcode placed at a point. */
export interface PlacedPostcode extends Point {
  /** The postcode as normalisePostcode wrote it: "SW1A 1AA", or an outward code alone ("SW1A"). */
  postcode: string;
  precision: Precision;
}

// compact (no spaces) shapes: a full postcode, GIR 0AA and the old Newport "NPT" codes
// (terminated, still in the ONS files) included; and an outward code alone
const FULL = /^(GIR0AA|NPT[0-9][A-Z]{2}|[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2})$/;
const OUTWARD = /^(NPT|[A-Z]{1,2}[0-9][0-9A-Z]?)$/;

/**
 * "sw1a1aa " -> "SW1A 1AA", " sw1a" -> "SW1A" (an outward code alone), or null when it is
 * shaped like neither. A full postcode always ends in a digit and two letters and an outward
 * code never does, so the two cannot be confused.
 */
export function normalisePostcode(input: string): string | null {
  const compact = input.toUpperCase().replace(/\s+/g, '');
  if (FULL.test(compact)) return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
  if (OUTWARD.test(compact)) return compact;
  return null;
}

/** The outward code of a normalised postcode ("SW1A 1AA" -> "SW1A"; "SW1A" -> "SW1A"). */
export function outwardCode(postcode: string): string {
  return postcode.split(' ')[0]!;
}

/**
 * Places a normalised postcode (normalisePostcode): its own point when it is imported, else
 * the centre of its outward code; null when neither is known.
 */
export async function locatePostcode(db: Queryable, postcode: string): Promise<PlacedPostcode | null> {
  if (postcode.includes(' ')) {
    const { rows } = await db.query<Point>({
      name: 'postcode-point',
      text: 'SELECT latitude, longitude FROM postcodes WHERE postcode = $1::text',
      values: [postcode],
    });
    if (rows[0]) return { postcode, latitude: rows[0].latitude, longitude: rows[0].longitude, precision: 'postcode' };
  }
  const centre = outcodeCentroid(outwardCode(postcode));
  return centre ? { postcode, ...centre, precision: 'outcode' } : null;
}
