/**
 * A dedicated connection LISTENing on 'slot_released' (the outbox trigger's NOTIFY), so a
 * release is matched at once rather than at the next scheduled poll. It reconnects with a
 * backoff when the connection drops, and wakes the poller after each (re)connect because
 * notifications sent while it was away are lost; the scheduled poll covers the gap anyway.
 */
import pg from 'pg';
import type { Logger } from 'pino';

export const RELEASE_CHANNEL = 'slot_released';

/** Starts listening; `onWake` is called for every notification and after every connect. */
export function listenForReleases(connectionString: string, onWake: () => void, log: Logger): { stop(): Promise<void> } {
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
