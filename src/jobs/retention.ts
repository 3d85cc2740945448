/**
 * Retention: what ages out of the tables that only grow, and when. One pass makes the
 * partitions of the coming periods (so an insert lands in its own partition, not the
 * default one), drops the partitions wholly older than their table's retention setting,
 * and deletes the other tables' old rows in batches of BATCH, each its own short
 * transaction, so no pass holds a lock on many rows for long.
 *
 * Every cutoff is computed from `now`, one argument, so a test moves time by passing a
 * later one instead of waiting (test/db/retention.test.ts).
 */
import type pg from 'pg';
import { deleteUnpartitionedAlertsBefore } from '../alerts/store.js';
import { deleteOldMessages } from '../alerts/messages.js';
import { deleteProcessedReleases } from '../slots/releases.js';
import { deletePastSlots } from '../slots/time-slots.js';
import type { Settings } from '../settings/definitions.js';
import type { Queryable } from '../db/types.js';

/** The partitioned tables: their period, how many periods ahead exist, and their setting. */
export const PARTITIONED = [
  { table: 'user_alerts', period: 'week', ahead: '4 weeks', setting: 'alert_retention_days' },
  { table: 'appointment_events', period: 'month', ahead: '2 months', setting: 'event_retention_days' },
  { table: 'audit_logs', period: 'month', ahead: '2 months', setting: 'audit_retention_days' },
] as const;

/** Rows per DELETE: small enough that each statement's locks and WAL stay short. */
export const BATCH = 5000;

export type RetentionSettings = Pick<
  Settings,
  'alert_retention_days' | 'event_retention_days' | 'audit_retention_days' | 'release_retention_days' | 'slot_retention_days'
>;

export interface RetentionResult {
  created: string[];
  dropped: string[];
  /** Partitions past their cutoff kept because a row in them is younger (or the lock was not had). */
  kept: string[];
  deleted: { defaultAlerts: number; messages: number; releases: number; slots: number; defaultEvents: number; defaultAudit: number };
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);

/** Makes the partitions of each partitioned table from the period holding `now` to `ahead` after it; returns their names. */
export async function ensurePartitions(db: Queryable, now: Date): Promise<string[]> {
  const created: string[] = [];
  for (const p of PARTITIONED) {
    const { rows } = await db.query<{ name: string }>(
      `SELECT ensure_partitions($1::regclass, $2::text, $3::timestamptz, $3::timestamptz + $4::interval) AS name`,
      [p.table, p.period, now, p.ahead],
    );
    created.push(...rows.map((r) => r.name));
  }
  return created;
}

/** Deletes, BATCH rows at a time (`fn` is given the limit), until a batch comes back short; returns how many went. */
export async function inBatches(fn: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await fn(BATCH);
    total += n;
    if (n < BATCH) return total;
  }
}

/** One retention pass as of `now` (the worker passes the clock's). */
export async function runRetention(pool: pg.Pool, settings: RetentionSettings, now: Date = new Date()): Promise<RetentionResult> {
  const created = await ensurePartitions(pool, now);
  const dropped: string[] = [];
  const kept: string[] = [];
  for (const p of PARTITIONED) {
    const { rows } = await pool.query<{ part: string; dropped: boolean }>(`SELECT part, dropped FROM drop_partitions_before($1::regclass, $2::timestamptz)`, [
      p.table,
      daysBefore(now, settings[p.setting]),
    ]);
    for (const r of rows) (r.dropped ? dropped : kept).push(r.part);
  }
  const alertCutoff = daysBefore(now, settings.alert_retention_days);
  const deleted = {
    defaultAlerts: await inBatches(() => deleteUnpartitionedAlertsBefore(pool, alertCutoff, BATCH)),
    messages: await inBatches(() => deleteOldMessages(pool, alertCutoff, BATCH)),
    releases: await inBatches(() => deleteProcessedReleases(pool, daysBefore(now, settings.release_retention_days), BATCH)),
    slots: await inBatches(() => deletePastSlots(pool, daysBefore(now, settings.slot_retention_days), BATCH)),
    // rows whose created_at no month covered; nothing counts their deletion (the booking
    // events' count is a counter, which never goes down)
    defaultEvents: await inBatches(() => deleteDefaultRows(pool, 'appointment_events', daysBefore(now, settings.event_retention_days))),
    defaultAudit: await inBatches(() => deleteDefaultRows(pool, 'audit_logs', daysBefore(now, settings.audit_retention_days))),
  };
  return { created, dropped, kept, deleted };
}

/**
 * Old rows of a default partition, straight from it: the history tables' default
 * partitions hold only rows dated outside every month made (given a created_at of their own).
 */
async function deleteDefaultRows(db: Queryable, table: 'appointment_events' | 'audit_logs', cutoff: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM ${table}_default WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table}_default WHERE created_at < $1::timestamptz LIMIT $2::int))`,
    [cutoff, BATCH],
  );
  return rowCount ?? 0;
}
