/**
 * The processors' way to the hot alert queries: reads, claims and SENT marks of jobs
 * running at the same time go to PostgreSQL together, one statement each.
 */
import type { Queryable } from '../db/types.js';
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
export function batchedAlertStore(db: Queryable, leaseSeconds: number, pushConfigured = true): AlertStore {
  const reads = new Batcher<string, AlertState | null>(async (ids) => {
    const found = await readAlertStates(db, ids);
    return ids.map((id) => found.get(id) ?? null);
  });
  const claimsFor = (channel: Channel) =>
    new Batcher<string, Claimed | null>(async (ids) => {
      const claimed = await claimAlerts(db, ids, channel, leaseSeconds, pushConfigured);
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

/**
 * Gathers the single-row queries of concurrent jobs into one statement. A worker running
 * a hundred sends at once would otherwise make a hundred round trips, each parsed,
 * planned and committed on its own; at a thousand messages a second that is most of
 * PostgreSQL's work. With little load a batch is one row and nothing waits: a request is
 * sent on the next turn of the event loop. While `maxInFlight` batches are running, new
 * requests wait and go together in the next one.
 */
class Batcher<K, V> {
  private pending: { key: K; resolve: (value: V) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    /** Runs one batch: one value per key, in the same order. */
    private readonly run: (keys: K[]) => Promise<V[]>,
    private readonly maxBatch = 250,
    private readonly maxInFlight = 4,
  ) {}

  /** Resolves with this key's value once its batch has run. */
  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.pending.length && this.inFlight < this.maxInFlight) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      this.run(batch.map((b) => b.key))
        .then(
          (values) => batch.forEach((b, i) => b.resolve(values[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }
}
