/** GET /metrics: Prometheus text with queue, alert, booking, latency and HTTP metrics from the real stores. */
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';
import { insertAppointment, insertCenter, insertSlot, insertUser } from '../helpers/factories.js';

const t = useTestApp();

/** The value of one sample line, e.g. sample(text, 'slotwatch_alerts{status="SENT",channel="email"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
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
    await t.queues.deliveriesEmail.add('send', { alertId: 'a1' }, { jobId: 'a1' });
    await t.app.inject({ method: 'GET', url: '/api/me' }); // a 401, timed like any other

    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
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
