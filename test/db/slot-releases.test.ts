/** The outbox trigger: every transition of a slot to AVAILABLE, and only those, is recorded. */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/transaction.js';
import { useTestContext } from '../helpers/context.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';

const ctx = useTestContext();

async function releasesOf(slotId: string) {
  const { rows } = await ctx.pool.query<{ reason: string }>(`SELECT reason FROM slot_releases WHERE slot_id = $1 ORDER BY id`, [slotId]);
  return rows.map((r) => r.reason);
}

describe('slot_releases', () => {
  it('records a slot created available, and not one created held or booked', async () => {
    const { id: centerId } = await insertCenter(ctx.pool);
    const free = await insertSlot(ctx.pool, { centerId });
    const held = await insertSlot(ctx.pool, { centerId, status: 'HOLD' });
    const booked = await insertSlot(ctx.pool, { centerId, status: 'BOOKED' });
    expect(await releasesOf(free.id)).toEqual(['created']);
    expect(await releasesOf(held.id)).toEqual([]);
    expect(await releasesOf(booked.id)).toEqual([]);
  });

  it('records each return to AVAILABLE with the reason the transaction gives, and nothing else', async () => {
    const { id: centerId } = await insertCenter(ctx.pool);
    const slot = await insertSlot(ctx.pool, { centerId });
    const setStatus = (status: string, reason?: string) =>
      withTransaction(ctx.pool, async (c) => {
        if (reason) await c.query(`SELECT set_config('slotwatch.release_reason', $1, true)`, [reason]);
        await c.query(`UPDATE time_slots SET status = $2::timeslot_status WHERE id = $1`, [slot.id, status]);
      });
    await setStatus('HOLD');
    await setStatus('AVAILABLE', 'hold_expired');
    await setStatus('AVAILABLE'); // no transition: nothing
    await ctx.pool.query(`UPDATE time_slots SET end_time = end_time + interval '1 minute' WHERE id = $1`, [slot.id]);
    await setStatus('BOOKED');
    await setStatus('AVAILABLE', 'cancelled');
    await setStatus('HOLD');
    await setStatus('AVAILABLE'); // no reason given: an operator re-opening it
    expect(await releasesOf(slot.id)).toEqual(['created', 'hold_expired', 'cancelled', 'reopened']);
  });

  it('writes nothing when the change rolls back', async () => {
    const { id: centerId } = await insertCenter(ctx.pool);
    const slot = await insertSlot(ctx.pool, { centerId, status: 'HOLD' });
    await expect(
      withTransaction(ctx.pool, async (c) => {
        await c.query(`UPDATE time_slots SET status = 'AVAILABLE' WHERE id = $1`, [slot.id]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow();
    expect(await releasesOf(slot.id)).toEqual([]);
  });

  it('wakes a listener once per committing transaction', async () => {
    const { id: centerId } = await insertCenter(ctx.pool);
    const listener = new pg.Client({ connectionString: ctx.databaseUrl });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.channel));
      await listener.query('LISTEN slot_released');
      await withTransaction(ctx.pool, async (c) => {
        for (let i = 0; i < 5; i++) await insertSlot(c, { centerId });
      });
      await expect.poll(() => heard.length).toBe(1);
      expect(heard).toEqual(['slot_released']);
    } finally {
      await listener.end();
    }
  });
});
