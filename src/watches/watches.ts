/** A learner's watches (user_preferences): one user, many, each with its own point, radius, types and dates. */
import type { Queryable } from '../db/types.js';

export type TestType = 'practical' | 'theory';

export interface WatchInput {
  latitude: number;
  longitude: number;
  postcode: string | null;
  radiusMiles: number;
  method: 'email' | 'push';
  testTypes: TestType[];
  earliestDate: string | null;
  latestDate: string | null;
  label: string | null;
  isActive: boolean;
}

export interface Watch {
  id: string;
  label: string | null;
  location: { latitude: number; longitude: number };
  postcode: string | null;
  radiusMiles: number;
  method: 'email' | 'push';
  testTypes: TestType[];
  earliestDate: string | null;
  latestDate: string | null;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Most watches one user may keep. */
export const MAX_WATCHES_PER_USER = 20;

const COLUMNS = `id, label, latitude, longitude, postcode, radius_miles::float8 AS radius_miles, notification_method::text AS method,
  preferred_test_types AS test_types, to_char(earliest_date, 'YYYY-MM-DD') AS earliest_date,
  to_char(latest_date, 'YYYY-MM-DD') AS latest_date, is_active, created_at, updated_at`;

interface Row {
  id: string;
  label: string | null;
  latitude: number;
  longitude: number;
  postcode: string | null;
  radius_miles: number;
  method: 'email' | 'push';
  test_types: TestType[];
  earliest_date: string | null;
  latest_date: string | null;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

function toWatch(r: Row): Watch {
  return {
    id: r.id,
    label: r.label,
    location: { latitude: r.latitude, longitude: r.longitude },
    postcode: r.postcode,
    radiusMiles: r.radius_miles,
    method: r.method,
    testTypes: r.test_types,
    earliestDate: r.earliest_date,
    latestDate: r.latest_date,
    isActive: r.is_active,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

const params = (w: WatchInput) => [
  w.label,
  w.latitude,
  w.longitude,
  w.postcode,
  w.radiusMiles,
  w.method,
  JSON.stringify([...new Set(w.testTypes)].sort()),
  w.earliestDate,
  w.latestDate,
  w.isActive,
];

/** The user's watches, newest first. */
export async function listWatches(db: Queryable, userId: string): Promise<Watch[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM user_preferences WHERE user_id = $1::uuid ORDER BY created_at DESC, id`, [userId]);
  return rows.map(toWatch);
}

/**
 * Adds a watch unless the user already has MAX_WATCHES_PER_USER (null then). Run it in a
 * transaction: the user's row is locked first, and the count is read by a later statement
 * (a fresh snapshot under READ COMMITTED), so two requests at once cannot both pass the limit.
 */
export async function createWatch(tx: Queryable, userId: string, w: WatchInput): Promise<Watch | null> {
  await tx.query(`SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE`, [userId]);
  const { rows } = await tx.query<Row>(
    `INSERT INTO user_preferences (user_id, label, latitude, longitude, postcode, radius_miles, notification_method,
                                   preferred_test_types, earliest_date, latest_date, is_active)
     SELECT $11::uuid, $1::text, $2::float8, $3::float8, $4::text, round($5::numeric, 2), $6::notification_method,
            $7::jsonb, $8::date, $9::date, $10::boolean
      WHERE (SELECT count(*) FROM user_preferences WHERE user_id = $11::uuid) < $12::int
     RETURNING ${COLUMNS}`,
    [...params(w), userId, MAX_WATCHES_PER_USER],
  );
  return rows[0] ? toWatch(rows[0]) : null;
}

/** Replaces one of the user's watches; null when the user has no such watch. */
export async function replaceWatch(db: Queryable, userId: string, id: string, w: WatchInput): Promise<Watch | null> {
  const { rows } = await db.query<Row>(
    `UPDATE user_preferences
        SET label = $1::text, latitude = $2::float8, longitude = $3::float8, postcode = $4::text,
            radius_miles = round($5::numeric, 2), notification_method = $6::notification_method,
            preferred_test_types = $7::jsonb, earliest_date = $8::date, latest_date = $9::date, is_active = $10::boolean
      WHERE id = $11::uuid AND user_id = $12::uuid
     RETURNING ${COLUMNS}`,
    [...params(w), id, userId],
  );
  return rows[0] ? toWatch(rows[0]) : null;
}

/** Deletes one of the user's watches; false when the user has no such watch. */
export async function deleteWatch(db: Queryable, userId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM user_preferences WHERE id = $1::uuid AND user_id = $2::uuid`, [id, userId]);
  return (rowCount ?? 0) > 0;
}
