/**
 * The demo's own test centres: one in each of thirty towns and cities across Great Britain,
 * at the town centre's approximate coordinates, written for this project (the real DVSA
 * list, which tests and benchmarks read when it is there, is not shipped with it). `weight` is a rough
 * share of learners, so demo learners crowd round the big cities as real ones do.
 */
import { seededRandom } from '../random.js';

export interface DemoPlace {
  town: string;
  postcode: string;
  latitude: number;
  longitude: number;
  weight: number;
}

export const DEMO_PLACES: DemoPlace[] = [
  { town: 'London', postcode: 'WC2N 5DU', latitude: 51.5074, longitude: -0.1278, weight: 20 },
  { town: 'Birmingham', postcode: 'B2 4QA', latitude: 52.4862, longitude: -1.8904, weight: 8 },
  { town: 'Manchester', postcode: 'M2 5DB', latitude: 53.4808, longitude: -2.2426, weight: 8 },
  { town: 'Leeds', postcode: 'LS1 1UR', latitude: 53.8008, longitude: -1.5491, weight: 6 },
  { town: 'Glasgow', postcode: 'G2 1DU', latitude: 55.8642, longitude: -4.2518, weight: 6 },
  { town: 'Liverpool', postcode: 'L2 2DH', latitude: 53.4084, longitude: -2.9916, weight: 5 },
  { town: 'Bristol', postcode: 'BS1 5TR', latitude: 51.4545, longitude: -2.5879, weight: 5 },
  { town: 'Sheffield', postcode: 'S1 2HH', latitude: 53.3811, longitude: -1.4701, weight: 4 },
  { town: 'Edinburgh', postcode: 'EH1 1YZ', latitude: 55.9533, longitude: -3.1883, weight: 4 },
  { town: 'Newcastle upon Tyne', postcode: 'NE1 7RU', latitude: 54.9783, longitude: -1.6178, weight: 4 },
  { town: 'Cardiff', postcode: 'CF10 1EP', latitude: 51.4816, longitude: -3.1791, weight: 3 },
  { town: 'Nottingham', postcode: 'NG1 2DT', latitude: 52.9548, longitude: -1.1581, weight: 3 },
  { town: 'Leicester', postcode: 'LE1 5YA', latitude: 52.6369, longitude: -1.1398, weight: 3 },
  { town: 'Southampton', postcode: 'SO14 7LY', latitude: 50.9097, longitude: -1.4044, weight: 2 },
  { town: 'Brighton', postcode: 'BN1 1GE', latitude: 50.8225, longitude: -0.1372, weight: 2 },
  { town: 'Plymouth', postcode: 'PL1 2AA', latitude: 50.3755, longitude: -4.1427, weight: 2 },
  { town: 'Norwich', postcode: 'NR2 1NH', latitude: 52.6309, longitude: 1.2974, weight: 2 },
  { town: 'Cambridge', postcode: 'CB2 3QJ', latitude: 52.2053, longitude: 0.1218, weight: 2 },
  { town: 'Oxford', postcode: 'OX1 1BX', latitude: 51.752, longitude: -1.2577, weight: 2 },
  { town: 'York', postcode: 'YO1 8RA', latitude: 53.96, longitude: -1.0873, weight: 2 },
  { town: 'Aberdeen', postcode: 'AB10 1AQ', latitude: 57.1497, longitude: -2.0943, weight: 2 },
  { town: 'Inverness', postcode: 'IV1 1JJ', latitude: 57.4778, longitude: -4.2247, weight: 1 },
  { town: 'Swansea', postcode: 'SA1 3SN', latitude: 51.6214, longitude: -3.9436, weight: 2 },
  { town: 'Exeter', postcode: 'EX1 1JG', latitude: 50.7184, longitude: -3.5339, weight: 1 },
  { town: 'Hull', postcode: 'HU1 2AA', latitude: 53.7676, longitude: -0.3274, weight: 2 },
  { town: 'Stoke-on-Trent', postcode: 'ST1 1HR', latitude: 53.0027, longitude: -2.1794, weight: 2 },
  { town: 'Reading', postcode: 'RG1 1JX', latitude: 51.4543, longitude: -0.9781, weight: 2 },
  { town: 'Milton Keynes', postcode: 'MK9 3HS', latitude: 52.0406, longitude: -0.7594, weight: 2 },
  { town: 'Carlisle', postcode: 'CA3 8QG', latitude: 54.8925, longitude: -2.9329, weight: 1 },
  { town: 'Dundee', postcode: 'DD1 1DB', latitude: 56.462, longitude: -2.9707, weight: 1 },
];


export interface DemoLearner {
  email: string;
  latitude: number;
  longitude: number;
  radiusMiles: number;
  testTypes: ('practical' | 'theory')[];
  method: 'email' | 'push';
}

/**
 * `count` learners placed round the towns by weight, up to about 15 miles out, with radii
 * of 5 to 30 miles; about one in five asks for push, the rest for email.
 */
export function demoLearners(count: number, seed = 20261122): DemoLearner[] {
  const random = seededRandom(seed);
  const total = DEMO_PLACES.reduce((s, p) => s + p.weight, 0);
  const pick = () => {
    let r = random() * total;
    for (const p of DEMO_PLACES) if ((r -= p.weight) < 0) return p;
    return DEMO_PLACES[0]!;
  };
  return Array.from({ length: count }, (_, i) => {
    const place = pick();
    const distanceKm = 24 * Math.sqrt(random()); // uniform over a disc
    const bearing = random() * 2 * Math.PI;
    const dLat = (distanceKm / 111.2) * Math.cos(bearing);
    const dLon = (distanceKm / (111.2 * Math.cos((place.latitude * Math.PI) / 180))) * Math.sin(bearing);
    const kind = random();
    return {
      email: `learner${String(i + 1).padStart(4, '0')}@demo.slotwatch.test`,
      latitude: Number((place.latitude + dLat).toFixed(5)),
      longitude: Number((place.longitude + dLon).toFixed(5)),
      radiusMiles: 5 + Math.floor(random() * 26),
      testTypes: kind < 0.7 ? ['practical'] : kind < 0.85 ? ['theory'] : ['practical', 'theory'],
      method: random() < 0.2 ? 'push' : 'email',
    };
  });
}
