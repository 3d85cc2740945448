/** audit_logs: who did what to which entity. Booking writes its own rows inside its statements. */
import type { Queryable } from '../db/types.js';

export interface AuditEntry {
  userId: string | null;
  action: string;
  entityType: string;
  entityId?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
}

/** Records one action, in the caller's transaction when given one. */
export async function recordAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_logs (user_id, action, entity_type, entity_id, details, ip)
     VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::jsonb, $6::inet)`,
    [e.userId, e.action, e.entityType, e.entityId ?? null, JSON.stringify(e.details ?? {}), e.ip ?? null],
  );
}
