/** audit_logs: every admin or operator action and every booking state change; every statement that writes it. */
import type { Queryable } from '../db/types.js';

export interface AuditEntry {
  /** Who acted; null for the system. */
  userId: string | null;
  /** Dotted verb, e.g. `config.update`, `appointment.hold`. */
  action: string;
  entityType?: string;
  entityId?: string;
  details?: Record<string, unknown>;
  ip?: string | null;
}

/** Appends one row to audit_logs; pass the transaction client so it commits with the change. */
export async function recordAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_logs (user_id, action, entity_type, entity_id, details, ip)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::inet)`,
    [e.userId, e.action, e.entityType ?? null, e.entityId ?? null, JSON.stringify(e.details ?? {}), e.ip ?? null],
  );
}

/**
 * A CTE named `name` that audits each row of the CTE `from`, for a statement that changes
 * something and records it in the same round trip. Every value is an SQL expression over
 * `from`'s columns and the statement's parameters (an action is a quoted literal).
 */
export function auditCte(name: string, o: { from: string; userId: string; action: string; entityType: string; entityId: string; details: string; ip: string }): string {
  return `${name} AS (
    INSERT INTO audit_logs (user_id, action, entity_type, entity_id, details, ip)
    SELECT ${o.userId}, ${o.action}, ${o.entityType}, ${o.entityId}, ${o.details}, ${o.ip}
      FROM ${o.from})`;
}

export interface AuditQuery {
  userId?: string;
  action?: string;
  from?: Date;
  to?: Date;
  /** Keyset cursor: rows with an id below this. */
  before?: number;
  limit: number;
}

export interface AuditRow {
  id: number;
  userId: string | null;
  action: string;
  entityType: string | null;
  entityId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  createdAt: Date;
}

/** Newest first, filtered, paginated by id (stable under concurrent inserts, unlike OFFSET). */
export async function listAudit(db: Queryable, q: AuditQuery): Promise<{ items: AuditRow[]; nextBefore: number | null }> {
  const { rows } = await db.query<AuditRow>(
    `SELECT id::int AS "id", user_id AS "userId", action, entity_type AS "entityType", entity_id AS "entityId",
            details, host(ip) AS ip, created_at AS "createdAt"
       FROM audit_logs
      WHERE ($1::uuid IS NULL OR user_id = $1)
        AND ($2::text IS NULL OR action = $2)
        AND ($3::timestamptz IS NULL OR created_at >= $3)
        AND ($4::timestamptz IS NULL OR created_at < $4)
        AND ($5::bigint IS NULL OR id < $5)
      ORDER BY id DESC
      LIMIT $6`,
    [q.userId ?? null, q.action ?? null, q.from ?? null, q.to ?? null, q.before ?? null, q.limit + 1],
  );
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : rows;
  return { items, nextBefore: more ? items.at(-1)!.id : null };
}
