import type { Logger } from 'pino';

/**
 * On SIGTERM or SIGINT, runs `close` once and exits 0, or exits 1 if it has not finished
 * within `seconds` (a PaaS sends SIGKILL 30 s after SIGTERM). Logs "<name> stopping" and
 * "<name> stopped", which operators and tests read.
 */
export function exitOnSignals(o: { name: string; seconds: number; log: Logger; close: () => Promise<void> }): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    o.log.info({ signal }, `${o.name} stopping`);
    const timer = setTimeout(() => {
      o.log.error({ seconds: o.seconds }, `${o.name} shutdown timed out; exiting with work still open`);
      process.exit(1);
    }, o.seconds * 1000);
    timer.unref();
    try {
      await o.close();
    } catch (err) {
      o.log.error({ err }, `${o.name} failed to close cleanly`);
      process.exit(1);
    }
    o.log.info(`${o.name} stopped`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
