/**
 * Which message a claimed alert goes in. The first alert for a learner goes out at once,
 * in a single message of its own. One matched while a message to them is being sent, or
 * less than alert_digest_seconds after their last one, joins their digest (opened now if
 * they have none, to go alert_digest_seconds after that last message). Once a learner's
 * messages today (Europe/London) reach their cap, further alerts are CAPPED: recorded,
 * never sent; the message that reaches the cap says so.
 *
 * Every worker process routes under the learner's advisory lock (lockRecipient), so the
 * decision and the message it opens are one step: two senders never both send "at once",
 * and never open two digests for one burst (alert_messages_one_open_digest backs that up).
 */
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import { lockRecipient, openMessage, recipientState, singleMessage } from './messages.js';
import { routeClaimedAlert } from './store.js';

export type Route =
  /** Send it now, in this single message. */
  | { kind: 'single'; messageId: string; reachesCap: boolean }
  /** Gathered into a digest; `opened` when this alert opened it (its job is to be queued). */
  | { kind: 'digest'; messageId: string; opened: boolean; sendAfter: Date }
  | { kind: 'capped' }
  /** The claim was lost meanwhile (a sender that outlived its lease): nothing to do. */
  | { kind: 'lost' };

/** Routes an alert this sender has claimed (SENDING under its lease). */
export async function routeAlert(pool: pg.Pool, alert: { id: string; userId: string; messageId: string | null }): Promise<Route> {
  // a retry of an alert already given its single message keeps it (it was counted once)
  if (alert.messageId) {
    const m = await singleMessage(pool, alert.messageId);
    if (m && (m.status === 'PENDING' || m.status === 'SENDING')) return { kind: 'single', messageId: alert.messageId, reachesCap: m.reachesCap };
  }
  return withTransaction(pool, async (tx) => {
    await lockRecipient(tx, alert.userId);
    const st = await recipientState(tx, alert.userId);
    const to = async (status: 'SENDING' | 'DIGESTED' | 'CAPPED', messageId: string | null) => routeClaimedAlert(tx, alert.id, { status, messageId });
    if (st.openDigestId && !st.digestsOff) {
      return (await to('DIGESTED', st.openDigestId)) ? { kind: 'digest', messageId: st.openDigestId, opened: false, sendAfter: st.digestAt } : { kind: 'lost' };
    }
    if (st.today >= st.cap) return (await to('CAPPED', null)) ? { kind: 'capped' } : { kind: 'lost' };
    const reachesCap = st.today + 1 >= st.cap;
    if (st.recent && !st.digestsOff) {
      const digest = await openMessage(tx, { userId: alert.userId, kind: 'digest', reachesCap, sendAfter: st.digestAt });
      if (!(await to('DIGESTED', digest.id))) throw new Error('alert claim lost while opening a digest'); // rolls the digest back
      return { kind: 'digest', messageId: digest.id, opened: true, sendAfter: digest.sendAfter };
    }
    const single = await openMessage(tx, { userId: alert.userId, kind: 'single', reachesCap });
    if (!(await to('SENDING', single.id))) throw new Error('alert claim lost while opening its message');
    return { kind: 'single', messageId: single.id, reachesCap };
  });
}
