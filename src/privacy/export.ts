/**
 * A learner's data export (UK GDPR right of access): everything slotwatch holds about the
 * caller, read through each owning capability in one read-only snapshot, so the parts agree.
 */
import type pg from 'pg';
import { getAccount, type Account } from '../accounts/users.js';
import { listSessions, type SessionRecord } from '../accounts/sessions.js';
import { messagesOfUser, type MessageRecord } from '../alerts/messages.js';
import { alertsOfUser, type AlertRecord } from '../alerts/state.js';
import { auditEntriesOf, type AuditRecord } from '../audit/audit.js';
import { listAppointments, type AppointmentWithSlot } from '../booking/appointments.js';
import { eventsOf, type AppointmentEvent } from '../booking/history.js';
import { withTransaction } from '../db/transaction.js';
import { listSubscriptions, type SubscriptionRecord } from '../watches/push-subscriptions.js';
import { listWatches, type Watch } from '../watches/watches.js';

export interface AccountExport {
  exportedAt: string;
  account: Account;
  watches: Watch[];
  pushSubscriptions: SubscriptionRecord[];
  alerts: AlertRecord[];
  alertMessages: MessageRecord[];
  appointments: (AppointmentWithSlot & { events: AppointmentEvent[] })[];
  sessions: SessionRecord[];
  auditEntries: AuditRecord[];
}

/** Everything held about the user, or null when there is no such user. */
export async function exportAccount(pool: pg.Pool, userId: string): Promise<AccountExport | null> {
  return withTransaction(
    pool,
    async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      const account = await getAccount(tx, userId);
      if (!account) return null;
      const appointments = await listAppointments(tx, userId, null);
      const ids = appointments.map((a) => a.id);
      const events = await eventsOf(tx, ids);
      return {
        exportedAt: new Date().toISOString(),
        account,
        watches: await listWatches(tx, userId, 'oldest'),
        pushSubscriptions: await listSubscriptions(tx, userId),
        alerts: await alertsOfUser(tx, userId),
        alertMessages: await messagesOfUser(tx, userId),
        appointments: appointments.map((a) => ({ ...a, events: events.get(a.id) ?? [] })),
        sessions: await listSessions(tx, userId),
        auditEntries: await auditEntriesOf(tx, userId, ids),
      };
    },
    { isolation: 'REPEATABLE READ' },
  );
}
