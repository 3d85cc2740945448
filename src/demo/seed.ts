/**
 * The demo's starting state, written straight to its own database: staff, centres with
 * two examiners each, and learners with one watch each (a fifth of them on web push,
 * subscribed at the demo's local push receiver).
 */
import type pg from 'pg';
import { hashPassword } from '../accounts/passwords.js';
import { DEMO_PLACES, demoLearners, type DemoLearner } from './places.js';

export const DEMO_ADMIN = { email: 'admin@demo.slotwatch.test', password: 'demo-admin-password' };
export const DEMO_OPERATOR = { email: 'operator@demo.slotwatch.test', password: 'demo-operator-password' };
export const DEMO_LEARNER_PASSWORD = 'demo-learner-password';

export interface SeededLearner extends DemoLearner {
  userId: string;
  watchId: string;
}

export interface Seeded {
  centres: { id: string; town: string; latitude: number; longitude: number; specialistIds: string[] }[];
  learners: SeededLearner[];
}

export interface PushEndpoint {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Seeds everything; `subscribe()` gives each push learner a subscription at the local receiver. */
export async function seedDemo(pool: pg.Pool, learnerCount: number, subscribe: (learner: SeededLearner) => PushEndpoint): Promise<Seeded> {
  const [adminHash, operatorHash, learnerHash] = await Promise.all([
    hashPassword(DEMO_ADMIN.password),
    hashPassword(DEMO_OPERATOR.password),
    // one hash for every learner: hashing hundreds with OWASP parameters would take a minute
    hashPassword(DEMO_LEARNER_PASSWORD),
  ]);
  await pool.query(
    `INSERT INTO users (email, password_hash, role, first_name) VALUES ($1, $2, 'ADMIN', 'Demo admin'), ($3, $4, 'OPERATOR', 'Demo operator')`,
    [DEMO_ADMIN.email, adminHash, DEMO_OPERATOR.email, operatorHash],
  );

  const centres: Seeded['centres'] = [];
  for (const place of DEMO_PLACES) {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO test_centers (name, postcode, latitude, longitude) VALUES ($1, $2, $3, $4) RETURNING id`,
      [`${place.town} (demo)`, place.postcode, place.latitude, place.longitude],
    );
    const centreId = rows[0]!.id;
    const { rows: examiners } = await pool.query<{ id: string }>(
      `INSERT INTO specialists (full_name, service_type, center_id)
       SELECT 'Examiner ' || n || ' of ' || $2::text, 'driving examiner', $1 FROM generate_series(1, 2) n RETURNING id`,
      [centreId, place.town],
    );
    centres.push({ id: centreId, town: place.town, latitude: place.latitude, longitude: place.longitude, specialistIds: examiners.map((e) => e.id) });
  }

  const learners = demoLearners(learnerCount);
  const { rows: users } = await pool.query<{ id: string; email: string }>(
    `INSERT INTO users (email, password_hash, role) SELECT e, $2, 'CLIENT' FROM unnest($1::text[]) e RETURNING id, email`,
    [learners.map((l) => l.email), learnerHash],
  );
  const idByEmail = new Map(users.map((u) => [u.email, u.id]));
  const { rows: watches } = await pool.query<{ id: string; user_id: string }>(
    `INSERT INTO user_preferences (user_id, label, latitude, longitude, radius_miles, notification_method, preferred_test_types)
     SELECT u, 'demo watch', lat, lon, r, m::notification_method, t::jsonb
       FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::numeric[], $5::text[], $6::text[]) AS w(u, lat, lon, r, m, t)
     RETURNING id, user_id`,
    [
      learners.map((l) => idByEmail.get(l.email)),
      learners.map((l) => l.latitude),
      learners.map((l) => l.longitude),
      learners.map((l) => l.radiusMiles),
      learners.map((l) => l.method),
      learners.map((l) => JSON.stringify(l.testTypes)),
    ],
  );
  const watchByUser = new Map(watches.map((w) => [w.user_id, w.id]));
  const seeded = learners.map((l) => {
    const userId = idByEmail.get(l.email)!;
    return { ...l, userId, watchId: watchByUser.get(userId)! };
  });
  for (const l of seeded.filter((s) => s.method === 'push')) {
    const sub = subscribe(l);
    await pool.query(`INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent) VALUES ($1, $2, $3, $4, 'slotwatch demo')`, [
      l.userId,
      sub.endpoint,
      sub.keys.p256dh,
      sub.keys.auth,
    ]);
  }
  return { centres, learners: seeded };
}
