/** The test_centers table: created by operators one at a time or imported in bulk from DVSA's list. */
import type { Queryable } from '../db/types.js';

export interface Centre {
  id: string;
  name: string;
  postcode: string;
  latitude: number;
  longitude: number;
  externalId: string | null;
}

export interface NewCentre {
  name: string;
  postcode: string;
  latitude: number;
  longitude: number;
  address?: string | null;
  externalId?: string | null;
}

const COLUMNS = `id, name, postcode, latitude, longitude, external_id AS "externalId"`;

/** Inserts one centre. */
export async function createCentre(db: Queryable, c: NewCentre): Promise<Centre> {
  const { rows } = await db.query<Centre>(
    `INSERT INTO test_centers (name, postcode, latitude, longitude, address, external_id)
     VALUES ($1::text, $2::text, $3::float8, $4::float8, $5::text, $6::text) RETURNING ${COLUMNS}`,
    [c.name.trim(), c.postcode.trim().toUpperCase(), c.latitude, c.longitude, c.address ?? null, c.externalId ?? null],
  );
  return rows[0]!;
}

/** Whether an active centre with this id exists. */
export async function centreExists(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM test_centers WHERE id = $1::uuid AND is_active`, [id]);
  return rows.length > 0;
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
export async function upsertCentres(db: Queryable, centres: (NewCentre & { externalId: string })[]): Promise<UpsertCounts> {
  if (!centres.length) return { created: 0, updated: 0, unchanged: 0 };
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
      centres.map((c) => c.externalId),
      centres.map((c) => c.name.trim()),
      centres.map((c) => c.postcode.trim().toUpperCase()),
      centres.map((c) => c.address ?? null),
      centres.map((c) => c.latitude),
      centres.map((c) => c.longitude),
    ],
  );
  const created = rows.filter((r) => r.created).length;
  return { created, updated: rows.length - created, unchanged: centres.length - rows.length };
}
