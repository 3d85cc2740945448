/** The specialists table: the examiners, each at one centre. */
import type { Queryable } from '../db/types.js';

export interface Specialist {
  id: string;
  fullName: string;
  serviceType: string;
  centerId: string;
}

/** Inserts an examiner at an existing centre; null when the centre does not exist. */
export async function createSpecialist(db: Queryable, s: Omit<Specialist, 'id'>): Promise<Specialist | null> {
  const { rows } = await db.query<Specialist>(
    `INSERT INTO specialists (full_name, service_type, center_id)
     SELECT $1::text, $2::text, c.id FROM test_centers c WHERE c.id = $3::uuid AND c.is_active
     RETURNING id, full_name AS "fullName", service_type AS "serviceType", center_id AS "centerId"`,
    [s.fullName.trim(), s.serviceType.trim(), s.centerId],
  );
  return rows[0] ?? null;
}
