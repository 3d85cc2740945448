/**
 * appointment_events: the history of every appointment, written as CTE parts so that each
 * state change is one statement that also writes its event and audit row; the three cannot
 * disagree, and a hold costs one round trip, not three.
 */
import { auditCte } from '../audit/audit.js';
import type { Queryable } from '../db/types.js';

/**
 * SQL for the event and audit inserts, as `WITH ... ,` parts to follow a CTE named
 * `changed` that returns `id, slot_id`. Parameters: `$actorUserId::uuid`, `$actor::text`,
 * `$ip::inet` at the given positions.
 */
export function historyCtes(
  o: { eventType: string; from: string | null; to: string; action: string },
  p: { actorUserId: number; actor: number; ip: number },
): string {
  const from = o.from ? `'${o.from}'::appointment_status` : 'NULL::appointment_status';
  return `
  event AS (
    INSERT INTO appointment_events (appointment_id, event_type, from_status, to_status, actor_user_id, actor, details)
    SELECT id, '${o.eventType}', ${from}, '${o.to}'::appointment_status, $${p.actorUserId}::uuid, $${p.actor}::text,
           jsonb_build_object('slotId', slot_id)
      FROM changed),
  ${auditCte('audit', {
    from: 'changed',
    userId: `$${p.actorUserId}::uuid`,
    action: `'${o.action}'`,
    entityType: `'appointment'`,
    entityId: 'id::text',
    details: `jsonb_build_object('slotId', slot_id, 'from', ${from}, 'to', '${o.to}')`,
    ip: `$${p.ip}::inet`,
  })}`;
}

/** An appointment's event as its learner's data export shows it (who acted, by kind only). */
export interface AppointmentEvent {
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  actor: 'user' | 'operator' | 'admin' | 'system';
  createdAt: string;
}

/** The events of the given appointments, oldest first, by appointment id. */
export async function eventsOf(db: Queryable, appointmentIds: string[]): Promise<Map<string, AppointmentEvent[]>> {
  const { rows } = await db.query<{ appointment_id: string; event_type: string; from_status: string | null; to_status: string | null; actor: AppointmentEvent['actor']; created_at: Date }>(
    `SELECT appointment_id, event_type, from_status::text AS from_status, to_status::text AS to_status, actor, created_at
       FROM appointment_events WHERE appointment_id = ANY ($1::uuid[]) ORDER BY id`,
    [appointmentIds],
  );
  const byAppointment = new Map<string, AppointmentEvent[]>(appointmentIds.map((id) => [id, []]));
  for (const r of rows) {
    byAppointment.get(r.appointment_id)?.push({ type: r.event_type, fromStatus: r.from_status, toStatus: r.to_status, actor: r.actor, createdAt: r.created_at.toISOString() });
  }
  return byAppointment;
}
