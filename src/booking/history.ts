/**
 * The appointment_events and audit_logs rows of a state change, as CTE parts: each state
 * change is one statement that also writes its history, so the two cannot disagree and
 * a hold costs one round trip, not three.
 */

/**
 * SQL for the two history inserts, as `WITH ... ,` parts to follow a CTE named `changed`
 * that returns `id, slot_id`. Parameters: `$actorUserId::uuid`, `$actor::text`, `$ip::inet`
 * at the given positions.
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
  audit AS (
    INSERT INTO audit_logs (user_id, action, entity_type, entity_id, details, ip)
    SELECT $${p.actorUserId}::uuid, '${o.action}', 'appointment', id::text,
           jsonb_build_object('slotId', slot_id, 'from', ${from}, 'to', '${o.to}'), $${p.ip}::inet
      FROM changed)`;
}
