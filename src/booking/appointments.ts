/** Appointments as callers see them, and the reads booking's routes need. */
import type { Queryable } from '../db/types.js';

export type AppointmentStatus = 'HOLD' | 'CONFIRMED' | 'CANCELLED' | 'NO_SHOW';
export type Actor = { userId: string | null; actor: 'user' | 'operator' | 'admin' | 'system'; ip?: string | null };

export interface AppointmentView {
  id: string;
  slotId: string;
  status: AppointmentStatus;
  priority: 'NORMAL' | 'VIP' | 'URGENT';
  expiresAt: string | null;
  confirmedAt: string | null;
  cancelledAt: string | null;
  createdAt: string;
}

export interface AppointmentRow {
  id: string;
  slot_id: string;
  status: AppointmentStatus;
  priority: AppointmentView['priority'];
  expires_at: Date | null;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  created_at: Date;
}

/** The columns an AppointmentRow is read from (alias `a`). */
export const APPOINTMENT_COLUMNS = `a.id, a.slot_id, a.status, a.priority, a.expires_at, a.confirmed_at, a.cancelled_at, a.created_at`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The JSON shape of an appointment row. */
export function toView(r: AppointmentRow): AppointmentView {
  return {
    id: r.id,
    slotId: r.slot_id,
    status: r.status,
    priority: r.priority,
    expiresAt: iso(r.expires_at),
    confirmedAt: iso(r.confirmed_at),
    cancelledAt: iso(r.cancelled_at),
    createdAt: r.created_at.toISOString(),
  };
}

export interface AppointmentWithSlot extends AppointmentView {
  slot: { startTime: string; endTime: string; testType: string; center: { id: string; name: string; postcode: string } };
}

/** A user's own appointments, newest first. */
export async function listAppointments(db: Queryable, userId: string, limit = 100): Promise<AppointmentWithSlot[]> {
  const { rows } = await db.query<AppointmentRow & { start_time: Date; end_time: Date; test_type: string; center_id: string; center_name: string; postcode: string }>(
    `SELECT ${APPOINTMENT_COLUMNS}, s.start_time, s.end_time, s.test_type::text AS test_type,
            c.id AS center_id, c.name AS center_name, c.postcode
       FROM appointments a
       JOIN time_slots s ON s.id = a.slot_id
       JOIN test_centers c ON c.id = s.center_id
      WHERE a.user_id = $1::uuid
      ORDER BY a.created_at DESC, a.id
      LIMIT $2::int`,
    [userId, limit],
  );
  return rows.map((r) => ({
    ...toView(r),
    slot: {
      startTime: r.start_time.toISOString(),
      endTime: r.end_time.toISOString(),
      testType: r.test_type,
      center: { id: r.center_id, name: r.center_name, postcode: r.postcode },
    },
  }));
}
