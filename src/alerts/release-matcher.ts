/**
 * Release matching as a worker runs it: woken by the schedule and by every 'slot_released'
 * notification, with one drain at a time per process. Across processes SKIP LOCKED keeps
 * drains apart.
 */
import pg from 'pg';
import type { Logger } from 'pino';
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

/** The channel the outbox trigger NOTIFYs on for each release. */
export const RELEASE_CHANNEL = 'slot_released';

/**
 * A dedicated connection LISTENing on RELEASE_CHANNEL, so a release is matched at once
 * rather than at the next scheduled poll. It reconnects with a backoff when the connection
 * drops, and wakes the poller after each (re)connect because notifications sent while it
 * was away are lost; the scheduled poll covers the gap anyway. `onWake` is called for every
 * notification and after every connect.
 */
function listenForReleases(connectionString: string, onWake: () => void, log: Logger): { stop(): Promise<void> } {
  let client: pg.Client | undefined;
  let stopped = false;
  let delay = 500;
  let timer: NodeJS.Timeout | undefined;

  const retry = (c: pg.Client) => {
    if (stopped || c !== client) return;
    client = undefined;
    c.end().catch(() => {});
    timer = setTimeout(() => void connect(), delay);
    delay = Math.min(delay * 2, 30_000);
  };

  const connect = async () => {
    if (stopped) return;
    const c = new pg.Client({ connectionString, application_name: 'slotwatch-release-listener' });
    client = c;
    c.on('notification', () => onWake());
    c.on('error', (err) => {
      log.warn({ err }, 'release listener connection failed; reconnecting');
      retry(c);
    });
    c.on('end', () => retry(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${RELEASE_CHANNEL}`);
      delay = 500;
      onWake();
    } catch (err) {
      log.warn({ err }, 'release listener could not connect; retrying');
      retry(c);
    }
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
