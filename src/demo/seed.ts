/**
 * The demo's starting state, written to its own database through the modules that own
 * each table: staff, centres with two examiners each, and learners with one watch each (a
 * fifth of them on web push, subscribed at the demo's local push receiver).
 */
import type pg from 'pg';
import { hashPassword } from '../accounts/passwords.js';
import { createUser, createUsersInBulk } from '../accounts/users.js';
import { createCenter } from '../slots/centers.js';
import { createSpecialist } from '../slots/specialists.js';
import { saveSubscription } from '../watches/push-subscriptions.js';
import { createWatchesInBulk } from '../watches/watches.js';
import { DEMO_PLACES, demoLearners, type DemoLearner } from './places.js';

export const DEMO_ADMIN = { email: 'admin@demo.slotwatch.test', password: 'demo-admin-password' };
export const DEMO_OPERATOR = { email: 'operator@demo.slotwatch.test', password: 'demo-operator-password' };
export const DEMO_LEARNER_PASSWORD = 'demo-learner-password';

export interface SeededLearner extends DemoLearner {
  userId: string;
  watchId: string;
}

export interface Seeded {
  centers: { id: string; town: string; latitude: number; longitude: number; specialistIds: string[] }[];
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
  await createUser(pool, { email: DEMO_ADMIN.email, passwordHash: adminHash, role: 'ADMIN', firstName: 'Demo admin' });
  await createUser(pool, { email: DEMO_OPERATOR.email, passwordHash: operatorHash, role: 'OPERATOR', firstName: 'Demo operator' });

  const centers: Seeded['centers'] = [];
  for (const place of DEMO_PLACES) {
    const center = await createCenter(pool, { name: `${place.town} (demo)`, postcode: place.postcode, latitude: place.latitude, longitude: place.longitude });
    const specialistIds: string[] = [];
    for (const n of [1, 2]) {
      const examiner = await createSpecialist(pool, { fullName: `Examiner ${n} of ${place.town}`, serviceType: 'driving examiner', centerId: center.id });
      specialistIds.push(examiner!.id);
    }
    centers.push({ id: center.id, town: place.town, latitude: place.latitude, longitude: place.longitude, specialistIds });
  }

  const learners = demoLearners(learnerCount);
  const idByEmail = await createUsersInBulk(pool, learners.map((l) => l.email), learnerHash, 'CLIENT');
  const watches = await createWatchesInBulk(
    pool,
    learners.map((l) => ({
      userId: idByEmail.get(l.email)!,
      watch: {
        label: 'demo watch',
        latitude: l.latitude,
        longitude: l.longitude,
        postcode: null,
        precision: null,
        radiusMiles: l.radiusMiles,
        method: l.method,
        testTypes: l.testTypes,
        earliestDate: null,
        latestDate: null,
        isActive: true,
      },
    })),
  );
  const watchByUser = new Map(watches.map((w) => [w.userId, w.id]));
  const seeded = learners.map((l) => {
    const userId = idByEmail.get(l.email)!;
    return { ...l, userId, watchId: watchByUser.get(userId)! };
  });
  for (const l of seeded.filter((s) => s.method === 'push')) {
    const sub = subscribe(l);
    await saveSubscription(pool, l.userId, { endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth, userAgent: 'slotwatch demo' });
  }
  return { centers, learners: seeded };
}
