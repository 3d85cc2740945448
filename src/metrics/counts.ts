/**
 * metric_counts and metric_count_changes: the counts behind /metrics, kept by the triggers
 * of migration 0020 as alerts, messages, booking events and releases are written. This
 * module is the only one that reads or writes them outside those triggers.
 */
import type { Queryable } from '../db/types.js';

/** One series' value; `labels` as the triggers wrote them. */
export interface CountRow {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The current value of each series of `metrics`: its folded count plus the changes not
 * folded yet. The work is the number of series and of changes since the last fold, not the
 * size of the tables counted.
 */
export async function readCounts(db: Queryable, metrics: string[]): Promise<CountRow[]> {
  const { rows } = await db.query<{ metric: string; labels: Record<string, string>; value: number }>(
    `SELECT metric, labels, sum(value)::float8 AS value
       FROM (SELECT metric, labels, value FROM metric_counts WHERE metric = ANY ($1::text[])
             UNION ALL
             SELECT metric, labels, value FROM metric_count_changes WHERE metric = ANY ($1::text[])) c
      GROUP BY 1, 2`,
    [metrics],
  );
  return rows;
}

/**
 * Moves the changes written since the last fold into metric_counts; returns how many. Safe
 * to run from several processes at once: a change row is deleted, and so added, once, and
 * the counts are upserted in key order, so two folds never deadlock on them.
 */
export async function foldMetricCounts(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `WITH moved AS (DELETE FROM metric_count_changes RETURNING metric, labels, value),
          folded AS (
            INSERT INTO metric_counts (metric, labels, value)
            SELECT metric, labels, sum(value) FROM moved GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (metric, labels) DO UPDATE SET value = metric_counts.value + excluded.value)
     SELECT count(*) AS n FROM moved`,
  );
  return Number(rows[0]!.n);
}
