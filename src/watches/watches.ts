/**
 * A learner's watches (the user_preferences table): one user, many, each with its own
 * point, radius, test types and dates. Every statement that writes the table is here.
 */
import type { Queryable } from '../db/types.js';
import type { TestType } from '../slots/test-types.js';
import type { Precision } from './postcodes.js';

/** How a watch's learner is told: the notification_method enum. */
export type NotificationMethod = 'email' | 'push';

/** What a learner chooses for a watch, however it is placed. */
interface WatchChoices {
  postcode: string | null;
  /** How precisely the postcode placed it; null when it was placed by coordinates (no postcode). */
  precision: Precision | null;
  radiusMiles: number;
  method: NotificationMethod;
  testTypes: TestType[];
  earliestDate: string | null;
  latestDate: string | null;
  label: string | null;
  isActive: boolean;
}

/** A watch as it is written: the choices, placed at a point. */
export interface WatchInput extends WatchChoices {
  latitude: number;
  longitude: number;
}

/** A watch as the API answers it. */
export interface Watch extends WatchChoices {
  id: string;
  location: { latitude: number; longitude: number };
  createdAt: string;
  updatedAt: string;
}

/** Most watches one user may keep. */
export const MAX_WATCHES_PER_USER = 20;

const COLUMNS = `id, label, latitude, longitude, postcode, location_precision AS precision, radius_miles::float8 AS radius_miles, notification_method::text AS method,
  preferred_test_types AS test_types, to_char(earliest_date, 'YYYY-MM-DD') AS earliest_date,
  to_char(latest_date, 'YYYY-MM-DD') AS latest_date, is_active, created_at, updated_at`;

interface Row {
  id: string;
  label: string | null;
  latitude: number;
  longitude: number;
  postcode: string | null;
  precision: Precision | null;
  radius_miles: number;
  method: NotificationMethod;
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
    precision: r.precision,
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
  w.precision,
];

/** The user's watches, newest first (or oldest first, as the "My watches" page lists them). */
export async function listWatches(db: Queryable, userId: string, order: 'newest' | 'oldest' = 'newest'): Promise<Watch[]> {
  const orderBy = order === 'newest' ? 'created_at DESC, id' : 'created_at, id';
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM user_preferences WHERE user_id = $1::uuid ORDER BY ${orderBy}`, [userId]);
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
                                   preferred_test_types, earliest_date, latest_date, is_active, location_precision)
     SELECT $12::uuid, $1::text, $2::float8, $3::float8, $4::text, round($5::numeric, 2), $6::notification_method,
            $7::jsonb, $8::date, $9::date, $10::boolean, $11::text
      WHERE (SELECT count(*) FROM user_preferences WHERE user_id = $12::uuid) < $13::int
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
            preferred_test_types = $7::jsonb, earliest_date = $8::date, latest_date = $9::date, is_active = $10::boolean,
            location_precision = $11::text
      WHERE id = $12::uuid AND user_id = $13::uuid
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

/** Adds watches for many users in one statement, with no per-user limit: for seeding a demo. */
export async function createWatchesInBulk(db: Queryable, watches: { userId: string; watch: WatchInput }[]): Promise<{ id: string; userId: string }[]> {
  const column = <T>(f: (w: WatchInput) => T) => watches.map((w) => f(w.watch));
  const { rows } = await db.query<{ id: string; user_id: string }>(
    `INSERT INTO user_preferences (user_id, label, latitude, longitude, postcode, radius_miles, notification_method,
                                   preferred_test_types, earliest_date, latest_date, is_active, location_precision)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::float8[], $5::text[], $6::numeric[], $7::notification_method[],
                          $8::jsonb[], $9::date[], $10::date[], $11::boolean[], $12::text[])
     RETURNING id, user_id`,
    [
      watches.map((w) => w.userId),
      column((w) => w.label),
      column((w) => w.latitude),
      column((w) => w.longitude),
      column((w) => w.postcode),
      column((w) => w.radiusMiles),
      column((w) => w.method),
      column((w) => JSON.stringify([...new Set(w.testTypes)].sort())),
      column((w) => w.earliestDate),
      column((w) => w.latestDate),
      column((w) => w.isActive),
      column((w) => w.precision),
    ],
  );
  return rows.map((r) => ({ id: r.id, userId: r.user_id }));
}

/** The columns the unsubscribe pages show of a watch. */
export const UNSUBSCRIBE_COLUMNS = 'id, label, radius_miles, postcode, is_active';

/** Switches off the watch whose unsubscribe token this is; the watch's UNSUBSCRIBE_COLUMNS, or null for an unknown token. */
export async function deactivateWatchByToken(
  db: Queryable,
  token: string,
): Promise<{ id: string; label: string | null; radius_miles: string; postcode: string | null; is_active: boolean } | null> {
  const { rows } = await db.query<{ id: string; label: string | null; radius_miles: string; postcode: string | null; is_active: boolean }>(
    `UPDATE user_preferences SET is_active = false WHERE unsubscribe_token = $1::text RETURNING ${UNSUBSCRIBE_COLUMNS}`,
    [token],
  );
  return rows[0] ?? null;
}

/** Deletes every watch of the user (an erasure); watch_coverage follows by its triggers. Run it under READ COMMITTED. */
export async function deleteWatchesOf(tx: Queryable, userId: string): Promise<number> {
  const { rowCount } = await tx.query(`DELETE FROM user_preferences WHERE user_id = $1::uuid`, [userId]);
  return rowCount ?? 0;
}
