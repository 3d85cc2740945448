/**
 * Who should be alerted about a slot, computed apart from the database's own matching:
 * geodesic distance by Karney's algorithm (geographiclib), test type, and the watch's
 * radius. The demo's learners have no date windows and are all active.
 */
import geodesic from 'geographiclib-geodesic';
import type { SeededLearner } from './seed.js';

const METRES_PER_MILE = 1609.344;

/** Metres between two points on the WGS84 spheroid. */
export function geodesicMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  return geodesic.Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2).s12!;
}

/** The learners whose watch covers a slot of `testType` at the given centre. */
export function expectedRecipients(
  learners: SeededLearner[],
  center: { latitude: number; longitude: number },
  testType: 'practical' | 'theory',
): SeededLearner[] {
  return learners.filter(
    (l) => l.testTypes.includes(testType) && geodesicMetres(l.latitude, l.longitude, center.latitude, center.longitude) <= l.radiusMiles * METRES_PER_MILE,
  );
}
