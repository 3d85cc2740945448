/**
 * Metrics read at scrape time from the shared stores (PostgreSQL, BullMQ's Redis keys)
 * rather than counted in one process: web and worker processes scale independently, and
 * the web process that serves /metrics sees what all of them did.
 */
import type { Queue } from 'bullmq';
import type { Queryable } from '../db/types.js';
import { JOB_STATES, queueStatus } from '../queues/inspect.js';
import type { Queues } from '../queues/queues.js';

type Labels = Record<string, string | number>;
interface Sample {
  labels?: Labels;
  value: number;
  metricName?: string;
}

/** A metric prom-client's Registry can render: its values come from `collect` at each scrape. */
export interface ScrapedMetric {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }>;
}

function scraped(name: string, help: string, type: ScrapedMetric['type'], collect: () => Promise<Sample[]>): ScrapedMetric {
  return { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: await collect() }) };
}

/** Latency buckets in seconds, shared by the match and delivery histograms. */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

/**
 * A histogram of `seconds` over the rows of a query, as cumulative buckets computed in SQL.
 * `source` must select one column named seconds.
 */
function sqlHistogram(db: Queryable, name: string, help: string, source: string): ScrapedMetric {
  const buckets = LATENCY_BUCKETS.map((b, i) => `count(*) FILTER (WHERE seconds <= ${b}) AS b${i}`).join(', ');
  return scraped(name, help, 'histogram', async () => {
    const { rows } = await db.query<Record<string, string | null>>(
      `SELECT ${buckets}, count(*) AS n, coalesce(sum(seconds), 0) AS total FROM (${source}) s`,
    );
    const r = rows[0]!;
    return [
      ...LATENCY_BUCKETS.map((b, i) => ({ metricName: `${name}_bucket`, labels: { le: b }, value: Number(r[`b${i}`]) })),
      { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: Number(r.n) },
      { metricName: `${name}_sum`, value: Number(r.total) },
      { metricName: `${name}_count`, value: Number(r.n) },
    ];
  });
}

/** Queue depths, ages and job totals per queue. */
export function queueMetrics(queues: Queues): ScrapedMetric[] {
  const all = () => Object.values(queues) as Queue[];
  return [
    scraped('slotwatch_queue_jobs', 'Jobs per queue and state', 'gauge', async () => {
      const statuses = await Promise.all(all().map((q) => queueStatus(q)));
      return statuses.flatMap((s) => JOB_STATES.map((state) => ({ labels: { queue: s.name, state }, value: s.counts[state] })));
    }),
    scraped('slotwatch_queue_oldest_waiting_seconds', 'Age of the oldest job waiting to run, 0 when none waits', 'gauge', async () => {
      const statuses = await Promise.all(all().map((q) => queueStatus(q)));
      return statuses.map((s) => ({ labels: { queue: s.name }, value: (s.oldestWaitingMs ?? 0) / 1000 }));
    }),
    ...(['completed', 'failed'] as const).map((kind) =>
      scraped(`slotwatch_queue_jobs_${kind}_total`, `Jobs ${kind} per queue (BullMQ worker metrics)`, 'counter', async () => {
        const metrics = await Promise.all(all().map(async (q) => ({ queue: q.name, m: await q.getMetrics(kind, 0, 0) })));
        return metrics.map(({ queue, m }) => ({ labels: { queue }, value: m.meta.count }));
      }),
    ),
  ];
}

/** Alerts by status and channel, holds and other booking events, and the two latency histograms. */
export function databaseMetrics(db: Queryable): ScrapedMetric[] {
  return [
    scraped('slotwatch_alerts', 'Alerts by delivery status and channel', 'gauge', async () => {
      const { rows } = await db.query<{ status: string; channel: string; n: string }>(
        `SELECT status::text, coalesce(channel::text, 'none') AS channel, count(*) AS n FROM user_alerts GROUP BY 1, 2`,
      );
      return rows.map((r) => ({ labels: { status: r.status, channel: r.channel }, value: Number(r.n) }));
    }),
    scraped('slotwatch_appointment_events_total', 'Booking state changes by event (HOLD_PLACED, CONFIRMED, HOLD_EXPIRED, ...)', 'counter', async () => {
      const { rows } = await db.query<{ event_type: string; n: string }>(`SELECT event_type, count(*) AS n FROM appointment_events GROUP BY 1`);
      return rows.map((r) => ({ labels: { event: r.event_type }, value: Number(r.n) }));
    }),
    sqlHistogram(
      db,
      'slotwatch_match_latency_seconds',
      'From a slot becoming available to its release being matched to watches',
      `SELECT extract(epoch FROM processed_at - released_at) AS seconds FROM slot_releases WHERE processed_at IS NOT NULL`,
    ),
    sqlHistogram(
      db,
      'slotwatch_delivery_latency_seconds',
      'From an alert being created to its message being accepted by the mail or push service',
      `SELECT extract(epoch FROM sent_at - created_at) AS seconds FROM user_alerts WHERE status = 'SENT'`,
    ),
  ];
}
