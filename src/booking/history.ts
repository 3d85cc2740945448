/**
 * appointment_events: the history of every appointment, written as CTE parts so that each
 * state change is one statement that also writes its event and audit row; the three cannot
 * disagree, and a hold costs one round trip, not three.
 */
import { auditCte } from '../audit/audit.js';

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
