/**
 * Metrics read at scrape time from the shared stores (PostgreSQL, BullMQ's Redis keys)
 * rather than counted in one process: web and worker processes scale independently, and
 * the web process that serves /metrics sees what all of them did. The database figures
 * come from counts kept as rows are written (counts.ts), never from counting the tables.
 */
import { ALERT_STATUSES } from '../alerts/state.js';
import type { Queryable } from '../db/types.js';
import { JOB_STATES, queueStatus } from '../queues/inspect.js';
import { allQueues, type Queues } from '../queues/queues.js';
import { readCounts } from './counts.js';

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

/**
 * Latency buckets in seconds, shared by the match and delivery histograms; the same bounds
 * are written in latency_series() (migration 0020), which files each observation.
 */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

/**
 * A histogram from its counts: `key`_bucket holds each bucket's own observations (labelled
 * by its upper bound), which Prometheus wants cumulative; `key`_sum and `key`_count as they are.
 */
function countedHistogram(db: Queryable, name: string, help: string, key: string): ScrapedMetric {
  return scraped(name, help, 'histogram', async () => {
    const rows = await readCounts(db, [`${key}_bucket`, `${key}_sum`, `${key}_count`]);
    const value = (metric: string, le?: string) => rows.find((r) => r.metric === metric && r.labels.le === le)?.value ?? 0;
    let below = 0;
    const buckets = [...LATENCY_BUCKETS.map(String), '+Inf'].map((le) => {
      below += value(`${key}_bucket`, le);
      return { metricName: `${name}_bucket`, labels: { le }, value: below };
    });
    return [...buckets, { metricName: `${name}_sum`, value: value(`${key}_sum`) }, { metricName: `${name}_count`, value: value(`${key}_count`) }];
  });
}

/** Queue depths, ages and job totals per queue. */
export function queueMetrics(queues: Queues): ScrapedMetric[] {
  const all = () => allQueues(queues);
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

/**
 * Alerts by status and channel, messages by kind, status and channel, booking events, and
 * the two latency histograms: read from the counts the database keeps as rows are written
 * (counts.ts), so a scrape costs the same at a thousand alerts as at millions.
 */
export function databaseMetrics(db: Queryable): ScrapedMetric[] {
  return [
    scraped('slotwatch_alerts', 'Alerts by delivery status and channel', 'gauge', async () => {
      // a status that has emptied stays as a 0, rather than vanishing
      const rows = await readCounts(db, ['alerts']);
      return rows.map((r) => ({ labels: { status: r.labels.status!, channel: r.labels.channel! }, value: r.value }));
    }),
    scraped('slotwatch_alerts_by_status', 'Alerts by status, every status shown (CAPPED: over a daily cap, not sent; DIGESTED: carried by a digest)', 'gauge', async () => {
      const rows = await readCounts(db, ['alerts']);
      return ALERT_STATUSES.map((status) => ({ labels: { status }, value: rows.filter((r) => r.labels.status === status).reduce((n, r) => n + r.value, 0) }));
    }),
    scraped(
      'slotwatch_alert_messages',
      'Messages (emails and pushes) by kind (single: one alert, digest: several), status and channel; alerts delivered minus messages sent is what digests saved',
      'gauge',
      async () => {
        const rows = await readCounts(db, ['alert_messages']);
        const samples = rows.map((r) => ({ labels: { kind: r.labels.kind!, status: r.labels.status!, channel: r.labels.channel! }, value: r.value }));
        // the sent series always exist, so a rate over them starts from 0
        for (const kind of ['single', 'digest']) {
          for (const channel of ['email', 'push']) {
            if (!samples.some((x) => x.labels.kind === kind && x.labels.status === 'SENT' && x.labels.channel === channel)) {
              samples.push({ labels: { kind, status: 'SENT', channel }, value: 0 });
            }
          }
        }
        return samples;
      },
    ),
    scraped('slotwatch_appointment_events_total', 'Booking state changes by event (HOLD_PLACED, CONFIRMED, HOLD_EXPIRED, ...)', 'counter', async () => {
      const rows = await readCounts(db, ['appointment_events']);
      return rows.map((r) => ({ labels: { event: r.labels.event! }, value: r.value }));
    }),
    countedHistogram(db, 'slotwatch_match_latency_seconds', 'From a slot becoming available to its release being matched to watches', 'match_latency_seconds'),
    countedHistogram(
      db,
      'slotwatch_delivery_latency_seconds',
      'From an alert being created to its message (its own, or the digest that carried it) being accepted by the mail or push service',
      'delivery_latency_seconds',
    ),
  ];
}
