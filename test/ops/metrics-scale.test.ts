/**
 * A scrape's database work does not grow with the tables it reports on: with 1,000,000
 * alerts, 100,000 messages, 200,000 booking events and 200,000 releases, every query the
 * database collectors run is planned and run (EXPLAIN ANALYZE) without touching any of
 * those tables, reading only the few dozen rows of the counts, and still reports them exactly.
 */
import type { QueryConfig } from 'pg';
import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/types.js';
import { databaseMetrics } from '../../src/metrics/collectors.js';
import { foldMetricCounts } from '../../src/metrics/counts.js';
import { useTestContext } from '../helpers/context.js';
import { insertAppointment, insertCenter, insertSlot, insertUser } from '../helpers/factories.js';

const ctx = useTestContext();
const COUNTED = ['user_alerts', 'alert_messages', 'appointment_events', 'slot_releases'];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('a scrape at a million alerts', () => {
  it('reads the counts, never the tables counted, and reports them exactly', async () => {
    const { pool } = ctx;
    const user = await insertUser(pool);
    const { id: centerId } = await insertCenter(pool);
    const slot = await insertSlot(pool, { centerId });
    const appointment = await insertAppointment(pool, { userId: user.id, slotId: slot.id });
    // one user and slot, told apart by release: 1% still pending, the rest sent by email a second after
    await pool.query(
      `INSERT INTO user_alerts (user_id, slot_id, release_id, status, sent, channel, created_at, sent_at)
       SELECT $1, $2, g, s.status::alert_status, s.status = 'SENT', 'email', now() - interval '1 second', CASE WHEN s.status = 'SENT' THEN now() END
         FROM generate_series(1, 1000000) g, LATERAL (SELECT CASE WHEN g % 100 = 0 THEN 'PENDING' ELSE 'SENT' END AS status) s`,
      [user.id, slot.id],
    );
    await pool.query(
      `INSERT INTO alert_messages (user_id, kind, status, channel, sent_at) SELECT $1, 'single', 'SENT', 'email', now() FROM generate_series(1, 100000)`,
      [user.id],
    );
    await pool.query(
      `INSERT INTO appointment_events (appointment_id, event_type, to_status) SELECT $1, 'HOLD_PLACED', 'HOLD' FROM generate_series(1, 200000)`,
      [appointment.id],
    );
    await pool.query(
      `INSERT INTO slot_releases (slot_id, reason, released_at, processed_at) SELECT $1, 'bench', now() - interval '2 seconds', now() FROM generate_series(1, 200000)`,
      [slot.id],
    );
    await pool.query(`ANALYZE`);
    // half the changes folded, half still to fold: a scrape reads both
    await foldMetricCounts(pool);
    await pool.query(`UPDATE user_alerts SET status = 'SENT', sent = true, sent_at = now() WHERE release_id <= 1000 AND status = 'PENDING'`);

    const queries: QueryConfig[] = [];
    const recording: Queryable = {
      query: ((text: string | QueryConfig, values?: unknown[]) => {
        queries.push(typeof text === 'string' ? { text, values } : text);
        return typeof text === 'string' ? pool.query(text, values) : pool.query(text);
      }) as Queryable['query'],
    };
    const collected = Object.fromEntries(await Promise.all(databaseMetrics(recording).map(async (m) => [m.name, (await m.get()).values] as const)));
    expect(queries.length).toBeGreaterThanOrEqual(6);

    for (const q of queries) {
      const { rows } = await pool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`, q.values);
      const all = nodes(rows[0]!['QUERY PLAN'][0]!.Plan);
      const tables = all.map((n) => n['Relation Name']).filter((r): r is string => r !== undefined);
      expect(tables.filter((r) => COUNTED.includes(r)), q.text).toEqual([]);
      expect(tables.length, q.text).toBeGreaterThan(0);
      const scanned = all.filter((n) => n['Relation Name']).reduce((sum, n) => sum + n['Actual Rows'] * n['Actual Loops'], 0);
      expect(scanned, q.text).toBeLessThan(1000);
    }

    const value = (metric: string, labels: Record<string, string>) =>
      (collected[metric] as { labels?: Record<string, string | number>; value: number; metricName?: string }[]).find((s) =>
        Object.entries(labels).every(([k, v]) => String(s.labels?.[k]) === v),
      )?.value;
    expect(value('slotwatch_alerts_by_status', { status: 'SENT' })).toBe(990_010);
    expect(value('slotwatch_alerts_by_status', { status: 'PENDING' })).toBe(9_990);
    expect(value('slotwatch_alerts', { status: 'SENT', channel: 'email' })).toBe(990_010);
    expect(value('slotwatch_alert_messages', { kind: 'single', status: 'SENT', channel: 'email' })).toBe(100_000);
    expect(value('slotwatch_appointment_events_total', { event: 'HOLD_PLACED' })).toBe(200_000);
    const histogram = (metric: string) => collected[metric] as { metricName?: string; labels?: Record<string, string | number>; value: number }[];
    expect(histogram('slotwatch_match_latency_seconds').find((s) => s.metricName?.endsWith('_count'))?.value).toBe(200_000);
    expect(histogram('slotwatch_match_latency_seconds').find((s) => s.labels?.le === '2')?.value).toBe(200_000);
    expect(histogram('slotwatch_match_latency_seconds').find((s) => s.labels?.le === '1')?.value).toBe(0);
    expect(histogram('slotwatch_delivery_latency_seconds').find((s) => s.metricName?.endsWith('_count'))?.value).toBe(990_010);
  }, 300_000);
});
