/**
 * Gathers the single-row queries of concurrent jobs into one statement. A worker running
 * a hundred sends at once would otherwise make a hundred round trips, each parsed,
 * planned and committed on its own; at a thousand messages a second that is most of
 * PostgreSQL's work. With little load a batch is one row and nothing waits: a request is
 * sent on the next turn of the event loop. While `maxInFlight` batches are running, new
 * requests wait and go together in the next one.
 */
export class Batcher<K, V> {
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
