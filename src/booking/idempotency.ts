/** Idempotency-Key storage: the first committed answer to a (user, key), replayed on retries. */
import type { Queryable } from '../db/types.js';

export interface StoredAnswer {
  request: string;
  statusCode: number;
  response: unknown;
}

/** The stored answer for a user's key, if one committed. */
export async function findAnswer(db: Queryable, userId: string, key: string): Promise<StoredAnswer | null> {
  const { rows } = await db.query<StoredAnswer>(
    `SELECT request, status_code AS "statusCode", response FROM idempotency_keys WHERE user_id = $1::uuid AND key = $2::text`,
    [userId, key],
  );
  return rows[0] ?? null;
}

/** Stores an answer in the caller's transaction; a concurrent twin fails on the primary key. */
export async function storeAnswer(db: Queryable, userId: string, key: string, answer: StoredAnswer): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (user_id, key, request, status_code, response) VALUES ($1::uuid, $2::text, $3::text, $4::int, $5::jsonb)`,
    [userId, key, answer.request, answer.statusCode, JSON.stringify(answer.response)],
  );
}

/** Deletes keys older than `hours`. */
export async function deleteOldAnswers(db: Queryable, hours = 24, limit = 5000): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys WHERE (user_id, key) IN (
       SELECT user_id, key FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int) LIMIT $2::int)`,
    [hours, limit],
  );
  return rowCount ?? 0;
}

/** Deletes every stored answer of the user (an erasure). */
export async function deleteAnswersOf(tx: Queryable, userId: string): Promise<number> {
  const { rowCount } = await tx.query(`DELETE FROM idempotency_keys WHERE user_id = $1::uuid`, [userId]);
  return rowCount ?? 0;
}
