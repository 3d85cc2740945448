/**
 * Release matching as a worker runs it: woken by the schedule and by every 'slot_released'
 * notification, with one drain at a time per process. Across processes SKIP LOCKED keeps
 * drains apart.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { listenForReleases } from './listen-releases.js';
import { drainReleases, type DrainOptions, type DrainResult } from './match.js';

export interface ReleaseMatcher {
  /** Drains now (or joins the drain under way, which then runs once more); resolves with the last drain's result. */
  run(): Promise<DrainResult>;
  /** LISTENs on its own connection and drains on every notification, until the returned stop is called. */
  listen(connectionString: string, log: Logger): { stop(): Promise<void> };
}

// one matcher per pool: the scheduled job and the notifications share it
const matchers = new WeakMap<pg.Pool, ReleaseMatcher>();

/** The process's release matcher for `o.pool`. */
export function releaseMatcher(o: DrainOptions): ReleaseMatcher {
  let matcher = matchers.get(o.pool);
  if (matcher) return matcher;
  let last: DrainResult = { releases: 0, alerts: 0 };
  // a trigger while a drain is under way asks for one more drain after it (a notification
  // arriving mid-drain may announce rows the drain has already passed), and every caller
  // gets the promise of the drain that covers it
  let current: Promise<void> | undefined;
  let again = false;
  const trigger = (): Promise<void> => {
    if (current) {
      again = true;
      return current;
    }
    current = (async () => {
      try {
        do {
          again = false;
          last = await drainReleases(o);
        } while (again);
      } finally {
        current = undefined;
      }
    })();
    return current;
  };
  matcher = {
    async run() {
      await trigger();
      return last;
    },
    listen(connectionString, log) {
      const listener = listenForReleases(connectionString, () => trigger().catch((err: unknown) => log.error({ err }, 'release matching failed')), log);
      return {
        async stop() {
          await listener.stop();
          await current?.catch(() => {});
        },
      };
    },
  };
  matchers.set(o.pool, matcher);
  return matcher;
}
