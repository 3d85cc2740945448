/** Rows for tests, inserted with plain SQL; every field may be overridden. */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../src/db/types.js';

let seq = 0;
const next = () => ++seq;

/** A user whose address is verified unless `verified: false` says otherwise. */
export async function insertUser(db: Queryable, o: { email?: string; role?: string; isActive?: boolean; priority?: string; verified?: boolean } = {}) {
  const { rows } = await db.query<{ id: string; email: string }>(
    `INSERT INTO users (email, password_hash, role, is_active, priority, email_verified_at)
     VALUES ($1, 'not-a-real-hash', $2::user_role, $3, $4::appointment_priority, CASE WHEN $5::boolean THEN now() END) RETURNING id, email`,
    [o.email ?? `user${next()}-${randomUUID().slice(0, 8)}@example.com`, o.role ?? 'CLIENT', o.isActive ?? true, o.priority ?? 'NORMAL', o.verified ?? true],
  );
  return rows[0]!;
}

export async function insertCenter(db: Queryable, o: { name?: string; latitude?: number; longitude?: number; postcode?: string } = {}) {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO test_centers (name, postcode, latitude, longitude) VALUES ($1, $2, $3, $4) RETURNING id`,
    [o.name ?? `Centre ${next()}`, o.postcode ?? 'SW1A 1AA', o.latitude ?? 51.5, o.longitude ?? -0.12],
  );
  return rows[0]!;
}

export async function insertSpecialist(db: Queryable, centerId: string, o: { fullName?: string } = {}) {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO specialists (full_name, service_type, center_id) VALUES ($1, 'driving examiner', $2) RETURNING id`,
    [o.fullName ?? `Examiner ${next()}`, centerId],
  );
  return rows[0]!;
}

/** A slot at `start` (default: days ahead, unique per call) lasting `minutes`. */
export async function insertSlot(
  db: Queryable,
  o: { centerId: string; specialistId?: string | null; start?: Date; minutes?: number; testType?: string; status?: string },
) {
  const start = o.start ?? new Date(Date.UTC(2031, 0, 1) + next() * 3_600_000);
  const end = new Date(start.getTime() + (o.minutes ?? 57) * 60_000);
  const { rows } = await db.query<{ id: string; start_time: Date; end_time: Date }>(
    `INSERT INTO time_slots (specialist_id, center_id, test_type, start_time, end_time, status)
     VALUES ($1, $2, $3::test_type, $4, $5, $6::timeslot_status) RETURNING id, start_time, end_time`,
    [o.specialistId ?? null, o.centerId, o.testType ?? 'practical', start, end, o.status ?? 'AVAILABLE'],
  );
  return rows[0]!;
}

export async function insertAppointment(db: Queryable, o: { userId: string; slotId: string; status?: string; expiresAt?: Date | null }) {
  const status = o.status ?? 'HOLD';
  const expires = o.expiresAt === undefined ? (status === 'HOLD' ? new Date(Date.now() + 300_000) : null) : o.expiresAt;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO appointments (user_id, slot_id, status, expires_at) VALUES ($1, $2, $3::appointment_status, $4) RETURNING id`,
    [o.userId, o.slotId, status, expires],
  );
  return rows[0]!;
}

export async function insertWatch(
  db: Queryable,
  o: { userId: string; latitude?: number; longitude?: number; radiusMiles?: number; method?: string; testTypes?: unknown },
) {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, notification_method, preferred_test_types)
     VALUES ($1, $2, $3, $4, $5::notification_method, $6::jsonb) RETURNING id`,
    [o.userId, o.latitude ?? 51.5, o.longitude ?? -0.12, o.radiusMiles ?? 25, o.method ?? 'email', JSON.stringify(o.testTypes ?? ['practical'])],
  );
  return rows[0]!;
}
