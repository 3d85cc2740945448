/**
 * GET /metrics: Prometheus text with queue, alert, booking, latency and HTTP metrics from
 * the real stores, served on the metrics port (127.0.0.1) without a token, and on the main
 * port only with METRICS_TOKEN. The database figures follow rows as they are inserted,
 * updated and deleted, and survive folding.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { foldMetricCounts } from '../../src/metrics/counts.js';
import { listenForMetrics } from '../../src/http/metrics-listener.js';
import { useTestApp } from '../helpers/app.js';
import { insertAppointment, insertCenter, insertSlot, insertUser } from '../helpers/factories.js';

const t = useTestApp();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

/** The metrics port of `t.app`, on a free port. */
async function metricsPort() {
  const listening = await listenForMetrics(t.app, 0);
  closers.push(listening!.close);
  return listening!.address;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${await metricsPort()}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample line, e.g. sample(text, 'slotwatch_alerts{status="SENT",channel="email"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics on the metrics port', () => {
  it('reports queues, alerts by status and channel, booking events, latencies and request durations', async () => {
    const { id: centerId } = await insertCenter(t.ctx.pool);
    const user = await insertUser(t.ctx.pool);
    const slots = [await insertSlot(t.ctx.pool, { centerId }), await insertSlot(t.ctx.pool, { centerId }), await insertSlot(t.ctx.pool, { centerId })];
    // one digest that carried two alerts, and one alert over the daily cap
    const extra = [await insertSlot(t.ctx.pool, { centerId }), await insertSlot(t.ctx.pool, { centerId }), await insertSlot(t.ctx.pool, { centerId })];
    const digest = await t.ctx.pool.query<{ id: string }>(
      `INSERT INTO alert_messages (user_id, kind, status, channel, sent_at) VALUES ($1, 'digest', 'SENT', 'email', now()) RETURNING id`,
      [user.id],
    );
    await t.ctx.pool.query(
      `INSERT INTO user_alerts (user_id, slot_id, status, channel, message_id, created_at)
       VALUES ($1, $2, 'DIGESTED', 'email', $5, now() - interval '60 seconds'), ($1, $3, 'DIGESTED', 'email', $5, now() - interval '60 seconds'),
              ($1, $4, 'CAPPED', 'email', NULL, now())`,
      [user.id, extra[0]!.id, extra[1]!.id, extra[2]!.id, digest.rows[0]!.id],
    );
    await t.ctx.pool.query(
      `INSERT INTO user_alerts (user_id, slot_id, status, sent, channel, created_at, sent_at)
       VALUES ($1, $2, 'SENT', true, 'email', now() - interval '3 seconds', now() - interval '2.8 seconds'),
              ($1, $3, 'SENT', true, 'push', now() - interval '3 seconds', now()),
              ($1, $4, 'PENDING', false, NULL, now(), NULL)`,
      [user.id, slots[0]!.id, slots[1]!.id, slots[2]!.id],
    );
    // two of the three creation releases processed, 0.3 s and 20 s after they were released
    await t.ctx.pool.query(
      `UPDATE slot_releases SET processed_at = released_at + CASE slot_id WHEN $1 THEN interval '0.3 seconds' ELSE interval '20 seconds' END
        WHERE slot_id IN ($1, $2)`,
      [slots[0]!.id, slots[1]!.id],
    );
    const appointment = await insertAppointment(t.ctx.pool, { userId: user.id, slotId: slots[2]!.id });
    await t.ctx.pool.query(
      `INSERT INTO appointment_events (appointment_id, event_type, to_status) VALUES ($1, 'HOLD_CREATED', 'HOLD'), ($1, 'HOLD_EXPIRED', 'CANCELLED')`,
      [appointment.id],
    );
    await t.queues.deliveries.email[0]!.add('send', { alertId: 'a1' }, { jobId: 'a1' });
    await t.app.inject({ method: 'GET', url: '/api/me' }); // a 401, timed like any other

    const address = await metricsPort();
    expect(new URL(address).hostname).toBe('127.0.0.1');
    const res = await fetch(`${address}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const text = await res.text();
    expect(sample(text, 'slotwatch_queue_jobs{queue="deliveries-email",state="waiting"}')).toBe(1);
    expect(sample(text, 'slotwatch_queue_jobs{queue="maintenance",state="waiting"}')).toBe(0);
    expect(sample(text, 'slotwatch_queue_oldest_waiting_seconds{queue="deliveries-email"}')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('# TYPE slotwatch_queue_jobs_completed_total counter');
    expect(sample(text, 'slotwatch_alerts{status="SENT",channel="email"}')).toBe(1);
    expect(sample(text, 'slotwatch_alerts{status="SENT",channel="push"}')).toBe(1);
    expect(sample(text, 'slotwatch_alerts{status="PENDING",channel="none"}')).toBe(1);
    expect(sample(text, 'slotwatch_alerts_by_status{status="DIGESTED"}')).toBe(2);
    expect(sample(text, 'slotwatch_alerts_by_status{status="CAPPED"}')).toBe(1);
    expect(sample(text, 'slotwatch_alerts_by_status{status="FAILED"}')).toBe(0);
    expect(sample(text, 'slotwatch_alert_messages{kind="digest",status="SENT",channel="email"}')).toBe(1);
    expect(sample(text, 'slotwatch_alert_messages{kind="single",status="SENT",channel="push"}')).toBe(0);
    expect(sample(text, 'slotwatch_appointment_events_total{event="HOLD_EXPIRED"}')).toBe(1);
    expect(text).toContain('# TYPE slotwatch_match_latency_seconds histogram');
    expect(sample(text, 'slotwatch_match_latency_seconds_bucket{le="0.5"}')).toBe(1);
    expect(sample(text, 'slotwatch_match_latency_seconds_bucket{le="30"}')).toBe(2);
    expect(sample(text, 'slotwatch_match_latency_seconds_count')).toBe(2);
    expect(sample(text, 'slotwatch_delivery_latency_seconds_bucket{le="0.25"}')).toBe(1);
    expect(sample(text, 'slotwatch_delivery_latency_seconds_bucket{le="5"}')).toBe(2);
    // the two digested alerts waited a minute for their digest
    expect(sample(text, 'slotwatch_delivery_latency_seconds_count')).toBe(4);
    expect(sample(text, 'slotwatch_http_request_duration_seconds_count{method="GET",route="/api/me",status="401"}')).toBe(1);
    expect(text).toContain('slotwatch_process_resident_memory_bytes');
  });

  it('is not served on the main port without METRICS_TOKEN, and the metrics port serves nothing else', async () => {
    const main = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(main.statusCode).toBe(404);
    expect(main.json().error.code).toBe('NOT_FOUND');
    const other = await fetch(`${await metricsPort()}/api/me`);
    expect(other.status).toBe(404);
  });

  it('leaves a taken port to its owner: a second listener on it serves nothing', async () => {
    const first = await metricsPort();
    const second = await listenForMetrics(t.app, Number(new URL(first).port));
    expect(second).toBeNull();
    expect((await fetch(`${first}/metrics`)).status).toBe(200);
  });

  it('follows alerts, messages and events as they are updated and deleted, before and after folding', async () => {
    const { id: centerId } = await insertCenter(t.ctx.pool);
    const user = await insertUser(t.ctx.pool);
    const before = await scrape();
    const pending = (text: string) => sample(text, 'slotwatch_alerts_by_status{status="PENDING"}') ?? 0;
    const sent = (text: string) => sample(text, 'slotwatch_alerts{status="SENT",channel="push"}') ?? 0;
    const delivered = (text: string) => sample(text, 'slotwatch_delivery_latency_seconds_count')!;
    const slots = await Promise.all([1, 2, 3].map(() => insertSlot(t.ctx.pool, { centerId })));
    await t.ctx.pool.query(
      `INSERT INTO user_alerts (user_id, slot_id, created_at) SELECT $1, unnest($2::uuid[]), now() - interval '4 seconds'`,
      [user.id, slots.map((s) => s.id)],
    );
    let text = await scrape();
    expect(pending(text) - pending(before)).toBe(3);
    // one is sent by push; another only has an attempt counted, which changes no series
    await t.ctx.pool.query(`UPDATE user_alerts SET status = 'SENT', sent = true, channel = 'push', sent_at = now() WHERE slot_id = $1`, [slots[0]!.id]);
    await t.ctx.pool.query(`UPDATE user_alerts SET attempts = attempts + 1 WHERE slot_id = $1`, [slots[1]!.id]);
    expect(await foldMetricCounts(t.ctx.pool)).toBeGreaterThan(0);
    text = await scrape();
    expect(pending(text) - pending(before)).toBe(2);
    expect(sent(text) - sent(before)).toBe(1);
    expect(delivered(text) - delivered(before)).toBe(1);
    expect(sample(text, 'slotwatch_delivery_latency_seconds_bucket{le="5"}')! - sample(before, 'slotwatch_delivery_latency_seconds_bucket{le="5"}')!).toBe(1);
    expect(await foldMetricCounts(t.ctx.pool)).toBe(0);
    expect(await scrape()).toContain(`slotwatch_alerts_by_status{status="PENDING"} ${pending(text)}`);

    // the account is erased: its alerts leave the gauges, the latency counted stays
    await t.ctx.pool.query(`DELETE FROM users WHERE id = $1`, [user.id]);
    text = await scrape();
    expect(pending(text)).toBe(pending(before));
    expect(sent(text)).toBe(sent(before));
    expect(delivered(text) - delivered(before)).toBe(1);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const locked = useTestApp({ METRICS_TOKEN: 'a-long-metrics-token-123' });
  it('needs the token', async () => {
    expect((await locked.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await locked.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    const ok = await locked.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer a-long-metrics-token-123' } });
    expect(ok.statusCode).toBe(200);
  });
});
