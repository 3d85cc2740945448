/**
 * The processors' way to the hot alert queries: reads, claims and SENT marks of jobs
 * running at the same time go to PostgreSQL together (batcher.ts), one statement each.
 */
import type { Queryable } from '../db/types.js';
import { Batcher } from './batcher.js';
import { readAlertStates, type AlertState } from './state.js';
import { claimAlerts, markSentMany, type Channel, type Claimed, type SentMark } from './store.js';

export interface AlertStore {
  /** The alert's state (not the facts a message needs); null when it no longer exists. */
  read(alertId: string): Promise<AlertState | null>;
  /** Claims for one send on `channel`; null when not claimable now (see claimAlerts). */
  claim(alertId: string, channel: Channel): Promise<Claimed | null>;
  /** Marks SENT; false when the alert was no longer SENDING. */
  markSent(mark: SentMark): Promise<boolean>;
}

/** An AlertStore that batches concurrent calls. */
export function batchedAlertStore(db: Queryable, leaseSeconds: number): AlertStore {
  const reads = new Batcher<string, AlertState | null>(async (ids) => {
    const found = await readAlertStates(db, ids);
    return ids.map((id) => found.get(id) ?? null);
  });
  const claimsFor = (channel: Channel) =>
    new Batcher<string, Claimed | null>(async (ids) => {
      const claimed = await claimAlerts(db, ids, channel, leaseSeconds);
      // one claim is one send: should the same alert be asked for twice in a batch, only
      // the first asker gets it
      const given = new Set<string>();
      return ids.map((id) => {
        if (given.has(id)) return null;
        given.add(id);
        return claimed.get(id) ?? null;
      });
    });
  const claims = { email: claimsFor('email'), push: claimsFor('push') };
  const marks = new Batcher<SentMark, boolean>(async (batch) => {
    const sent = await markSentMany(db, batch);
    return batch.map((m) => sent.has(m.alertId));
  });
  return {
    read: (alertId) => reads.load(alertId),
    claim: (alertId, channel) => claims[channel].load(alertId),
    markSent: (mark) => marks.load(mark),
  };
}
