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

/** An audit entry as the data export of the person it concerns shows it. */
export interface AuditRecord {
  id: number;
  action: string;
  entityType: string | null;
  entityId: string | null;
  details: Record<string, unknown>;
  /** Who acted: the person themselves, someone else (staff, never named), or the system. */
  by: 'you' | 'someone else' | 'system';
  /** Their own address when they acted; someone else's is theirs, not shown. */
  ip: string | null;
  createdAt: string;
}

/**
 * The entries by a user or about them (about their account, or about one of the given
 * appointments of theirs), oldest first.
 */
export async function auditEntriesOf(db: Queryable, userId: string, appointmentIds: string[]): Promise<AuditRecord[]> {
  const { rows } = await db.query<{
    id: number; action: string; entity_type: string | null; entity_id: string | null; details: Record<string, unknown>;
    user_id: string | null; ip: string | null; created_at: Date;
  }>(
    `SELECT id::int AS id, action, entity_type, entity_id, details, user_id, host(ip) AS ip, created_at
       FROM audit_logs
      WHERE user_id = $1::uuid
         OR (entity_type = 'user' AND entity_id = $1::text)
         OR (entity_type = 'appointment' AND entity_id = ANY ($2::text[]))
      ORDER BY id`,
    [userId, appointmentIds],
  );
  return rows.map((r) => {
    const by = r.user_id === userId ? 'you' : r.user_id ? 'someone else' : 'system';
    return {
      id: r.id,
      action: r.action,
      entityType: r.entity_type,
      entityId: r.entity_id,
      details: r.details,
      by,
      ip: by === 'you' ? r.ip : null,
      createdAt: r.created_at.toISOString(),
    };
  });
}

/** Who is being forgotten, and the words that identify them in free text. */
export interface Forgotten {
  userId: string;
  email: string;
  /** First and last name, as they were stored; empty ones are ignored. */
  names: (string | null)[];
  /** The person's appointments, whose entries are about them too. */
  appointmentIds: string[];
}

// a name as a whole word, whatever the script: not preceded or followed by a letter or digit
const nameRegex = (names: string[]) =>
  names.length ? `(^|[^[:alnum:]])(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})([^[:alnum:]]|$)` : null;

/**
 * Makes the audit log stop naming a person (an erasure), keeping what happened. In every
 * entry, a detail whose key or value holds their email address becomes "[erased]" and an
 * entity id holding it is cleared; this reads the whole log, since any entry may quote an
 * address. In the entries by or about them, a detail holding one of their names as a word
 * is erased too, the IP address of their own actions is cleared, and so is the entity id of
 * an entry about their account. The user id of their own entries is cleared by the foreign
 * key when the users row is deleted.
 */
export async function forgetPersonInAudit(tx: Queryable, p: Forgotten): Promise<number> {
  const names = p.names.map((n) => n?.trim() ?? '').filter((n) => n.length > 0);
  const { rowCount } = await tx.query(
    `WITH hits AS (
       SELECT a.id,
              a.user_id = $1::uuid
                OR (a.entity_type = 'user' AND a.entity_id = $1::text)
                OR (a.entity_type = 'appointment' AND a.entity_id = ANY ($4::text[])) AS about
         FROM audit_logs a
        WHERE a.user_id = $1::uuid
           OR (a.entity_type = 'user' AND a.entity_id = $1::text)
           OR (a.entity_type = 'appointment' AND a.entity_id = ANY ($4::text[]))
           OR strpos(lower(a.details::text), $2::text) > 0
           OR strpos(lower(a.entity_id), $2::text) > 0)
     UPDATE audit_logs a
        SET ip = CASE WHEN a.user_id = $1::uuid THEN NULL ELSE a.ip END,
            entity_id = CASE WHEN (a.entity_type = 'user' AND a.entity_id = $1::text) OR strpos(lower(a.entity_id), $2::text) > 0
                             THEN NULL ELSE a.entity_id END,
            details = CASE
              WHEN jsonb_typeof(a.details) = 'object' THEN
                (SELECT coalesce(jsonb_object_agg(e.key, CASE
                          WHEN strpos(lower(e.key || ' ' || e.value::text), $2::text) > 0
                            OR (h.about AND $3::text IS NOT NULL AND (e.key || ' ' || e.value::text) ~* $3::text)
                          THEN to_jsonb('[erased]'::text) ELSE e.value END), '{}'::jsonb)
                   FROM jsonb_each(a.details) e)
              WHEN strpos(lower(a.details::text), $2::text) > 0 OR (h.about AND $3::text IS NOT NULL AND a.details::text ~* $3::text)
                THEN to_jsonb('[erased]'::text)
              ELSE a.details END
       FROM hits h
      WHERE a.id = h.id`,
    [p.userId, p.email.toLowerCase(), nameRegex(names), p.appointmentIds],
  );
  return rowCount ?? 0;
}
