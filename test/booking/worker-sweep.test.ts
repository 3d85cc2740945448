/**
 * Hold expiry as the worker runs it: a BullMQ job scheduler upserted by a stable id (two
 * worker processes starting together still make one schedule) whose jobs release expired
 * holds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { expireHoldsTask } from '../../src/jobs/tasks.js';
import { loadConfig } from '../../src/config.js';
import { startWorker, type RunningWorker } from '../../src/jobs/runtime.js';
import { useTestContext } from '../helpers/context.js';
import { insertAppointment, insertUser } from '../helpers/factories.js';
import { futureSlots, invariantViolations } from './helpers.js';

const ctx = useTestContext();
const running: RunningWorker[] = [];
afterAll(async () => {
  await Promise.all(running.map((w) => w.close()));
});

describe('expire-holds in the worker', () => {
  it('two workers keep one schedule, and an expired hold is released by it', async () => {
    const config = { ...loadConfig({ DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl, HOLD_SWEEP_SECONDS: '1', LOG_LEVEL: 'warn' }), QUEUE_PREFIX: ctx.redisPrefix };
    running.push(...(await Promise.all([1, 2].map(() => startWorker(config, { tasks: [expireHoldsTask] })))));
    const schedulers = await running[0]!.deps.queues.maintenance.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toEqual(['expire-holds']);

    const { slots } = await futureSlots(ctx.pool, 2);
    const user = await insertUser(ctx.pool);
    const other = await insertUser(ctx.pool);
    await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = ANY($1::uuid[])`, [slots.map((s) => s.id)]);
    const expired = await insertAppointment(ctx.pool, { userId: user.id, slotId: slots[0]!.id, expiresAt: new Date(Date.now() - 1000) });
    const live = await insertAppointment(ctx.pool, { userId: other.id, slotId: slots[1]!.id });
    // factory rows have no history; give them their HOLD_PLACED event and audit row so the invariants apply
    for (const a of [expired, live]) {
      await ctx.pool.query(`INSERT INTO appointment_events (appointment_id, event_type, to_status) VALUES ($1, 'HOLD_PLACED', 'HOLD')`, [a.id]);
      await ctx.pool.query(`INSERT INTO audit_logs (action, entity_type, entity_id) VALUES ('appointment.hold', 'appointment', $1)`, [a.id]);
    }

    // wait for the schedule to fire (every second); the test's own timeout bounds the wait
    let status = 'HOLD';
    while (status === 'HOLD') {
      await new Promise((r) => setTimeout(r, 250));
      status = (await ctx.pool.query(`SELECT status FROM appointments WHERE id = $1`, [expired.id])).rows[0].status;
    }
    expect(status).toBe('CANCELLED');
    const { rows } = await ctx.pool.query(`SELECT id, status FROM time_slots WHERE id = ANY($1::uuid[]) ORDER BY status`, [slots.map((s) => s.id)]);
    expect(rows).toEqual([{ id: slots[0]!.id, status: 'AVAILABLE' }, { id: slots[1]!.id, status: 'HOLD' }]);
    const { rows: ev } = await ctx.pool.query(`SELECT event_type, actor FROM appointment_events WHERE appointment_id = $1 ORDER BY id`, [expired.id]);
    expect(ev).toEqual([{ event_type: 'HOLD_PLACED', actor: 'system' }, { event_type: 'HOLD_EXPIRED', actor: 'system' }]);
    expect(await invariantViolations(ctx.pool)).toEqual([]);
  });
});
