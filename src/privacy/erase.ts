/**
 * Deleting a learner's account (UK GDPR right to erasure), in one transaction: their live
 * holds and future bookings cancelled so the slots are released (and other learners
 * alerted), what is theirs alone deleted by each owning capability, the audit log made to
 * stop naming them, and the users row deleted. Its foreign keys cascade to anything else
 * that is theirs alone and detach what others must keep (appointments, which stay as the
 * operator's records of tests, and audit entries and appointment events, which lose the
 * user id). The erasure itself is audited, naming nobody.
 */
import type pg from 'pg';
import { confirmPassword } from '../accounts/credentials.js';
import { deleteSessionsOf } from '../accounts/sessions.js';
import { deleteUser, lockUser } from '../accounts/users.js';
import { deleteAlertsOf } from '../alerts/store.js';
import { forgetPersonInAudit, recordAudit } from '../audit/audit.js';
import { listAppointments } from '../booking/appointments.js';
import { deleteAnswersOf } from '../booking/idempotency.js';
import { cancelLiveAppointmentsOf } from '../booking/transitions.js';
import { withTransaction } from '../db/transaction.js';
import { deleteSubscriptionsOf } from '../watches/push-subscriptions.js';
import { deleteWatchesOf } from '../watches/watches.js';

export type Erasure = { erased: true; cancelledAppointments: number; keptAppointments: number } | { erased: false; reason: 'WRONG_PASSWORD' };

/**
 * Erases the user's account once `password` is confirmed to be theirs. The password is
 * checked before the transaction (a hash takes a while; no lock is held meanwhile) and the
 * transaction refuses if it has changed since.
 */
export async function eraseAccount(pool: pg.Pool, userId: string, password: string): Promise<Erasure> {
  const confirmedHash = await confirmPassword(pool, userId, password);
  if (!confirmedHash) return { erased: false, reason: 'WRONG_PASSWORD' };
  // READ COMMITTED: deleting watches relies on it (the watch_coverage triggers)
  return withTransaction(pool, async (tx) => {
    const person = await lockUser(tx, userId);
    if (!person || person.passwordHash !== confirmedHash) return { erased: false, reason: 'WRONG_PASSWORD' };
    const cancelledAppointments = await cancelLiveAppointmentsOf(tx, userId);
    const appointmentIds = (await listAppointments(tx, userId, null)).map((a) => a.id);
    // alerts first: deleting a watch would otherwise rewrite each of its alerts on the way
    await deleteAlertsOf(tx, userId);
    await deleteWatchesOf(tx, userId);
    await deleteSubscriptionsOf(tx, userId);
    await deleteSessionsOf(tx, userId);
    await deleteAnswersOf(tx, userId);
    await forgetPersonInAudit(tx, { userId, email: person.email, names: [person.firstName, person.lastName], appointmentIds });
    await deleteUser(tx, userId);
    await recordAudit(tx, {
      userId: null,
      action: 'account.erase',
      entityType: 'user',
      details: { cancelledAppointments, keptAppointments: appointmentIds.length },
    });
    return { erased: true, cancelledAppointments, keptAppointments: appointmentIds.length };
  });
}
