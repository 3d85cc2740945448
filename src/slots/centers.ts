/**
 * The test_centers table, created by operators one at a time or imported in bulk from
 * DVSA's list: every statement that writes it.
 */
import type { Queryable } from '../db/types.js';

export interface Center {
  id: string;
  name: string;
  postcode: string;
  latitude: number;
  longitude: number;
  externalId: string | null;
}

export interface NewCenter {
  name: string;
  postcode: string;
  latitude: number;
  longitude: number;
  address?: string | null;
  externalId?: string | null;
}

const COLUMNS = `id, name, postcode, latitude, longitude, external_id AS "externalId"`;

/** Inserts one centre. */
export async function createCenter(db: Queryable, c: NewCenter): Promise<Center> {
  const { rows } = await db.query<Center>(
    `INSERT INTO test_centers (name, postcode, latitude, longitude, address, external_id)
     VALUES ($1::text, $2::text, $3::float8, $4::float8, $5::text, $6::text) RETURNING ${COLUMNS}`,
    [c.name.trim(), c.postcode.trim().toUpperCase(), c.latitude, c.longitude, c.address ?? null, c.externalId ?? null],
  );
  return rows[0]!;
}

export interface UpsertCounts {
  created: number;
  updated: number;
  unchanged: number;
}

/**
 * Inserts or updates centres by external id in one statement; a row whose values are all
 * the same is left alone (no write, no updated_at change), so re-running an import is free.
 */
export async function upsertCenters(db: Queryable, centers: (NewCenter & { externalId: string })[]): Promise<UpsertCounts> {
  if (!centers.length) return { created: 0, updated: 0, unchanged: 0 };
  const { rows } = await db.query<{ created: boolean }>(
    `INSERT INTO test_centers AS c (external_id, name, postcode, address, latitude, longitude)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[])
     ON CONFLICT (external_id) DO UPDATE
        SET name = EXCLUDED.name, postcode = EXCLUDED.postcode, address = EXCLUDED.address,
            latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude
      WHERE (c.name, c.postcode, c.address, c.latitude, c.longitude)
            IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.postcode, EXCLUDED.address, EXCLUDED.latitude, EXCLUDED.longitude)
     RETURNING (xmax = 0) AS created`,
    [
      centers.map((c) => c.externalId),
      centers.map((c) => c.name.trim()),
      centers.map((c) => c.postcode.trim().toUpperCase()),
      centers.map((c) => c.address ?? null),
      centers.map((c) => c.latitude),
      centers.map((c) => c.longitude),
    ],
  );
  const created = rows.filter((r) => r.created).length;
  return { created, updated: rows.length - created, unchanged: centers.length - rows.length };
}

/** The first `limit` of these external ids that name no centre, in order. */
export async function unknownCenterExternalIds(db: Queryable, externalIds: string[], limit = 5): Promise<string[]> {
  const { rows } = await db.query<{ c: string }>(
    `SELECT t.c FROM unnest($1::text[]) AS t (c)
      WHERE NOT EXISTS (SELECT 1 FROM test_centers tc WHERE tc.external_id = t.c)
      ORDER BY t.c LIMIT $2::int`,
    [externalIds, limit],
  );
  return rows.map((r) => r.c);
}
