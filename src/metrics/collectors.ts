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

/** Alerts by status and channel, messages by kind, status and channel, holds and other booking events, and the two latency histograms. */
export function databaseMetrics(db: Queryable): ScrapedMetric[] {
  return [
    scraped('slotwatch_alerts', 'Alerts by delivery status and channel', 'gauge', async () => {
      const { rows } = await db.query<{ status: string; channel: string; n: string }>(
        `SELECT status::text, coalesce(channel::text, 'none') AS channel, count(*) AS n FROM user_alerts GROUP BY 1, 2`,
      );
      return rows.map((r) => ({ labels: { status: r.status, channel: r.channel }, value: Number(r.n) }));
    }),
    scraped('slotwatch_alerts_by_status', 'Alerts by status, every status shown (CAPPED: over a daily cap, not sent; DIGESTED: carried by a digest)', 'gauge', async () => {
      const { rows } = await db.query<{ status: string; n: string }>(
        `SELECT e.status::text, count(a.id) AS n
           FROM unnest(enum_range(NULL::alert_status)) AS e(status) LEFT JOIN user_alerts a ON a.status = e.status
          GROUP BY 1 ORDER BY 1`,
      );
      return rows.map((r) => ({ labels: { status: r.status }, value: Number(r.n) }));
    }),
    scraped(
      'slotwatch_alert_messages',
      'Messages (emails and pushes) by kind (single: one alert, digest: several), status and channel; alerts delivered minus messages sent is what digests saved',
      'gauge',
      async () => {
        const { rows } = await db.query<{ kind: string; status: string; channel: string; n: string }>(
          `WITH counted AS (
             SELECT kind, status::text, coalesce(channel::text, 'none') AS channel, count(*) AS n FROM alert_messages GROUP BY 1, 2, 3)
           -- the sent series always exist, so a rate over them starts from 0
           SELECT k.kind, 'SENT' AS status, c.channel, 0 AS n
             FROM (VALUES ('single'), ('digest')) k(kind), (VALUES ('email'), ('push')) c(channel)
            WHERE NOT EXISTS (SELECT FROM counted x WHERE x.kind = k.kind AND x.status = 'SENT' AND x.channel = c.channel)
           UNION ALL SELECT * FROM counted`,
        );
        return rows.map((r) => ({ labels: { kind: r.kind, status: r.status, channel: r.channel }, value: Number(r.n) }));
      },
    ),
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
      'From an alert being created to its message (its own, or the digest that carried it) being accepted by the mail or push service',
      `SELECT extract(epoch FROM coalesce(a.sent_at, m.sent_at) - a.created_at) AS seconds
         FROM user_alerts a LEFT JOIN alert_messages m ON m.id = a.message_id
        WHERE a.status = 'SENT' OR (a.status = 'DIGESTED' AND m.status = 'SENT')`,
    ),
  ];
}
