/**
 * Which message a claimed alert goes in. The first alert for a learner goes out at once,
 * in a single message of its own. One matched while a message to them is being sent, or
 * less than alert_digest_seconds after their last one, joins their digest (opened now if
 * they have none, to go alert_digest_seconds after that last message). Once a learner's
 * messages today (Europe/London) reach their cap, further alerts are CAPPED: recorded,
 * never sent; the message that reaches the cap says so.
 *
 * Routing is per learner, not per alert: whoever routes a learner's alert also routes
 * every other alert of theirs that no message carries yet (with digests on), in the same
 * transaction. A burst's first alert goes at once and the rest of the learner's alerts
 * committed by then open one digest; their own jobs then find them routed and end.
 *
 * Every worker process routes under the learner's advisory lock, so the decision and the
 * message it opens are one step: two senders never both send "at once", and never open two
 * digests for one burst (alert_messages_one_open_digest backs that up). The lock is only
 * tried, never waited for inside a transaction: a sender that finds it taken gives its
 * connection back, waits a moment and tries again, unless its alert has been routed
 * meanwhile by the holder. So a learner with dozens of alerts never has dozens of senders
 * each holding one of the pool's connections while they queue for one lock, and an alert
 * committed while another sender holds the learner is routed by its own sender once the
 * lock is free: never stranded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import { dropEmptyDigest, openMessage, recipientState, singleMessage } from './messages.js';
import { gatherUnrouted, routeClaimedAlert, tryRoutingLock, type RoutingState } from './store.js';

export type Route =
  /** Send it now, in this single message; `digest` when the rest of the learner's alerts opened one (its job is to be queued). */
  | { kind: 'single'; messageId: string; reachesCap: boolean; digest?: { messageId: string; sendAfter: Date } }
  /** Gathered into a digest; `opened` when this alert opened it (its job is to be queued). */
  | { kind: 'digest'; messageId: string; opened: boolean; sendAfter: Date | null }
  | { kind: 'capped' }
  /** The claim was lost meanwhile (a sender that outlived its lease): nothing to do. */
  | { kind: 'lost' };

/** Tries of the routing lock before giving the job back to BullMQ's retry, and the longest pause between them. */
const LOCK_TRIES = 200;
const LOCK_PAUSE_MS = 50;

/** Routes an alert this sender has claimed (SENDING under its lease). */
export async function routeAlert(pool: pg.Pool, alert: { id: string; userId: string; messageId: string | null }): Promise<Route> {
  // a retry of an alert already given its single message keeps it (it was counted once)
  if (alert.messageId) {
    const m = await singleMessage(pool, alert.messageId);
    if (m && (m.status === 'PENDING' || m.status === 'SENDING')) return { kind: 'single', messageId: alert.messageId, reachesCap: m.reachesCap };
  }
  for (let attempt = 1; attempt <= LOCK_TRIES; attempt++) {
    const route = await withTransaction(pool, (tx) => routeUnderLock(tx, alert));
    if (route) return route;
    // another sender is routing this learner: its transaction is a few statements long
    await sleep(Math.min(LOCK_PAUSE_MS, 2 * attempt) * (0.5 + Math.random()));
  }
  throw new Error('the learner stayed locked for routing; trying again'); // BullMQ's attempts retry
}

/** What became of an alert routed by another sender (gathered with its learner's), or null when it is still ours to route. */
function routedElsewhere(a: RoutingState | null, ownMessageId: string | null): Route | null {
  if (!a) return { kind: 'lost' };
  if (a.status === 'DIGESTED' && a.messageId) return { kind: 'digest', messageId: a.messageId, opened: false, sendAfter: null };
  if (a.status === 'CAPPED') return { kind: 'capped' };
  if (a.status !== 'SENDING') return { kind: 'lost' };
  // SENDING with a message other than a single's own retry: routed already, not ours
  if (a.messageId && a.messageId !== ownMessageId) return { kind: 'lost' };
  return null;
}

/** One try: null when another sender holds the learner's routing lock. */
async function routeUnderLock(tx: pg.PoolClient, alert: { id: string; userId: string; messageId: string | null }): Promise<Route | null> {
  const tried = await tryRoutingLock(tx, alert.userId, alert.id);
  const elsewhere = routedElsewhere(tried.alert, alert.messageId);
  if (elsewhere) return elsewhere;
  if (!tried.locked) return null;
  // read again under the lock: a sender that held it may have routed this alert just before
  const st = await recipientState(tx, alert.userId, alert.id);
  const routedMeanwhile = routedElsewhere(st.alert, alert.messageId);
  if (routedMeanwhile) return routedMeanwhile;
  const to = async (status: 'SENDING' | 'DIGESTED' | 'CAPPED', messageId: string | null) => {
    if (!(await routeClaimedAlert(tx, alert.id, { status, messageId }))) throw new Error('alert claim lost while routing it'); // rolls back what was opened
  };
  const others = !st.digestsOff && st.unroutedOthers > 0;
  const gather = (status: 'DIGESTED' | 'CAPPED', messageId: string | null) => (others ? gatherUnrouted(tx, alert.userId, alert.id, { status, messageId }) : 0);
  if (st.openDigestId && !st.digestsOff) {
    await to('DIGESTED', st.openDigestId);
    await gather('DIGESTED', st.openDigestId);
    return { kind: 'digest', messageId: st.openDigestId, opened: false, sendAfter: st.digestAt };
  }
  if (st.today >= st.cap) {
    await to('CAPPED', null);
    await gather('CAPPED', null);
    return { kind: 'capped' };
  }
  const reachesCap = st.today + 1 >= st.cap;
  if (st.recent && !st.digestsOff) {
    const digest = await openMessage(tx, { userId: alert.userId, kind: 'digest', reachesCap, sendAfter: st.digestAt });
    await to('DIGESTED', digest.id);
    await gather('DIGESTED', digest.id);
    return { kind: 'digest', messageId: digest.id, opened: true, sendAfter: digest.sendAfter };
  }
  const single = await openMessage(tx, { userId: alert.userId, kind: 'single', reachesCap });
  await to('SENDING', single.id);
  if (!others) return { kind: 'single', messageId: single.id, reachesCap };
  // the rest of the learner's burst: over the cap once this single reaches it, else one
  // digest, due alert_digest_seconds from now (this single is being sent)
  if (reachesCap) {
    await gather('CAPPED', null);
    return { kind: 'single', messageId: single.id, reachesCap };
  }
  const digest = await openMessage(tx, { userId: alert.userId, kind: 'digest', reachesCap: st.today + 2 >= st.cap, sendAfter: st.nextDigestAt });
  if ((await gather('DIGESTED', digest.id)) > 0) {
    return { kind: 'single', messageId: single.id, reachesCap, digest: { messageId: digest.id, sendAfter: digest.sendAfter } };
  }
  // every one of them was being claimed at that moment: their senders route them themselves
  await dropEmptyDigest(tx, digest.id);
  return { kind: 'single', messageId: single.id, reachesCap };
}
