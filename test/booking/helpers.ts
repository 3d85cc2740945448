/** Shared set-up for booking tests: a centre, an examiner and future slots, via SQL. */
import type { Queryable } from '../../src/db/types.js';
import { insertCenter, insertSlot, insertSpecialist } from '../helpers/factories.js';

let hour = 0;

/** `n` available future slots at one centre (each an hour apart, unique across calls). */
export async function futureSlots(db: Queryable, n: number, o: { latitude?: number; longitude?: number } = {}) {
  const center = await insertCenter(db, o);
  const specialist = await insertSpecialist(db, center.id);
  const base = Date.now() + 7 * 86_400_000;
  const slots = [];
  for (let i = 0; i < n; i++) {
    slots.push(await insertSlot(db, { centerId: center.id, specialistId: specialist.id, start: new Date(base + ++hour * 3_600_000) }));
  }
  return { center, specialist, slots };
}

/** Every booking invariant, as a list of violations (empty when all hold). */
export async function invariantViolations(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ problem: string }>(`
    SELECT 'slot ' || s.id || ' has ' || count(a.id) || ' active appointments' AS problem
      FROM time_slots s JOIN appointments a ON a.slot_id = s.id AND a.status IN ('HOLD', 'CONFIRMED')
     GROUP BY s.id HAVING count(a.id) > 1
    UNION ALL
    SELECT 'slot ' || s.id || ' is ' || s.status || ' but its active appointment is ' || coalesce(a.status::text, 'none')
      FROM time_slots s LEFT JOIN appointments a ON a.slot_id = s.id AND a.status IN ('HOLD', 'CONFIRMED')
     WHERE (s.status = 'AVAILABLE' AND a.id IS NOT NULL)
        OR (s.status = 'HOLD' AND a.status IS DISTINCT FROM 'HOLD')
        OR (s.status = 'BOOKED' AND a.status IS DISTINCT FROM 'CONFIRMED')
    UNION ALL
    SELECT 'user ' || a.user_id || ' has ' || count(*) || ' live ' || a.test_type || ' appointments'
      FROM appointments a
     WHERE a.status IN ('HOLD', 'CONFIRMED') AND upper(a.slot_period) > now() AND NOT a.predates_booking_limit
     GROUP BY a.user_id, a.test_type HAVING count(*) > 1
    UNION ALL
    SELECT 'appointment ' || a.id || ' (' || a.status || ') has no event for its state'
      FROM appointments a
     WHERE NOT EXISTS (SELECT 1 FROM appointment_events e WHERE e.appointment_id = a.id AND e.to_status = a.status)
    UNION ALL
    SELECT 'appointment ' || a.id || ' has ' || (SELECT count(*) FROM appointment_events e WHERE e.appointment_id = a.id)
           || ' events but ' || (SELECT count(*) FROM audit_logs l WHERE l.entity_type = 'appointment' AND l.entity_id = a.id::text) || ' audit rows'
      FROM appointments a
     WHERE (SELECT count(*) FROM appointment_events e WHERE e.appointment_id = a.id)
        <> (SELECT count(*) FROM audit_logs l WHERE l.entity_type = 'appointment' AND l.entity_id = a.id::text)`);
  return rows.map((r) => r.problem);
}
