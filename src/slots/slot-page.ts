/**
 * One slot as its page shows it (the page behind every alert link): its centre and times,
 * whether it can be held now, the distance from the learner's nearest watch, and the
 * learner's own active appointment on it.
 */
import type { Queryable } from '../db/types.js';
import { METRES_PER_MILE } from './search.js';

export interface SlotPage {
  id: string;
  testType: string;
  startTime: string;
  endTime: string;
  /** AVAILABLE, or a HOLD whose expiry has passed (the next hold takes it at once), and not started. */
  available: boolean;
  center: { id: string; name: string; postcode: string; latitude: number; longitude: number };
  /** From the nearest of the learner's watches; null when signed out or without watches. */
  distanceMiles: number | null;
  /** The learner's own live HOLD or CONFIRMED appointment on this slot. */
  appointment: { id: string; status: string; expiresAt: string | null } | null;
}

interface Row {
  id: string; test_type: string; start_time: Date; end_time: Date; available: boolean;
  center_id: string; name: string; postcode: string; latitude: number; longitude: number;
  distance_m: number | null; appointment_id: string | null; appointment_status: string | null; expires_at: Date | null;
}

/** The slot `slotId` as `userId` (or nobody) sees it; null when there is no such slot. */
export async function slotPage(db: Queryable, slotId: string, userId: string | null): Promise<SlotPage | null> {
  const { rows } = await db.query<Row>(
    `SELECT s.id, s.test_type::text AS test_type, s.start_time, s.end_time,
            s.start_time > now() AND (s.status = 'AVAILABLE' OR (s.status = 'HOLD' AND NOT EXISTS (
              SELECT 1 FROM appointments x
               WHERE x.slot_id = s.id AND (x.status = 'CONFIRMED' OR (x.status = 'HOLD' AND x.expires_at > now()))))) AS available,
            c.id AS center_id, c.name, c.postcode, c.latitude, c.longitude,
            (SELECT min(ST_Distance(p.location, c.location)) FROM user_preferences p
              WHERE p.user_id = $2::uuid AND p.is_active) AS distance_m,
            a.id AS appointment_id, a.status::text AS appointment_status, a.expires_at
       FROM time_slots s
       JOIN test_centers c ON c.id = s.center_id
       -- a hold past its expiry is no longer the learner's, even before the sweep has run
       LEFT JOIN appointments a ON a.slot_id = s.id AND a.user_id = $2::uuid
             AND (a.status = 'CONFIRMED' OR (a.status = 'HOLD' AND a.expires_at > now()))
      WHERE s.id = $1::uuid`,
    [slotId, userId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    testType: r.test_type,
    startTime: r.start_time.toISOString(),
    endTime: r.end_time.toISOString(),
    available: r.available,
    center: { id: r.center_id, name: r.name, postcode: r.postcode, latitude: r.latitude, longitude: r.longitude },
    distanceMiles: r.distance_m === null ? null : Math.round((r.distance_m / METRES_PER_MILE) * 10) / 10,
    appointment: r.appointment_id ? { id: r.appointment_id, status: r.appointment_status!, expiresAt: r.expires_at?.toISOString() ?? null } : null,
  };
}
