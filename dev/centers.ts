/**
 * Test centres for tests and the benchmark: the DVSA list from ../shared/data when it is
 * there ("Contains public sector information from DVSA"), else points generated over
 * Great Britain from a fixed seed, so everything still runs without the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { projectRoot } from '../src/paths.js';
import { seededRandom } from '../src/random.js';

export interface CenterRow {
  externalId: string;
  name: string;
  postcode: string;
  latitude: number;
  longitude: number;
}

export const DVSA_CSV = join(projectRoot, '..', 'shared', 'data', 'dvsa-test-centres.csv');

/** The project's seeded PRNG, so generated data is the same every run. */
export const prng = seededRandom;

/** The real centres when the file is there, else `fallbackCount` generated ones. */
export function loadCenters(fallbackCount = 300): { centers: CenterRow[]; real: boolean } {
  if (existsSync(DVSA_CSV)) {
    const rows = parse(readFileSync(DVSA_CSV), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    const centers = rows
      .map((r) => ({
        externalId: `dvsa-${r.id}`,
        name: String(r.name).slice(0, 200),
        postcode: String(r.postcode ?? '').trim(),
        latitude: Number(r.latitude),
        longitude: Number(r.longitude),
      }))
      .filter((c) => Number.isFinite(c.latitude) && Number.isFinite(c.longitude) && c.postcode.length >= 2 && c.postcode.length <= 10);
    return { centers, real: true };
  }
  const rand = prng(42);
  const centers = Array.from({ length: fallbackCount }, (_, i) => ({
    externalId: `gen-${i}`,
    name: `Generated centre ${i}`,
    postcode: `ZZ${i} 9ZZ`.slice(0, 10),
    latitude: 50.2 + rand() * 7.5,
    longitude: -5.3 + rand() * 7,
  }));
  return { centers, real: false };
}

/** Inserts the centres (one statement) and returns their ids in the same order. */
export async function insertCenters(db: { query: (sql: string, values?: unknown[]) => Promise<{ rows: unknown[] }> }, centers: CenterRow[]): Promise<string[]> {
  const { rows } = await db.query(
    `INSERT INTO test_centers (external_id, name, postcode, latitude, longitude)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[])
     ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name
     RETURNING id, external_id`,
    [centers.map((c) => c.externalId), centers.map((c) => c.name), centers.map((c) => c.postcode), centers.map((c) => c.latitude), centers.map((c) => c.longitude)],
  );
  const byExt = new Map((rows as { id: string; external_id: string }[]).map((r) => [r.external_id, r.id]));
  return centers.map((c) => byExt.get(c.externalId)!);
}
