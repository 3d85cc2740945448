import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';

// What starts a shutdown: SIGTERM (how a PaaS or a supervisor stops a process), SIGINT
// (Ctrl-C in a terminal), and an uncaught exception or unhandled rejection, after which the
// process's state cannot be trusted. close-with-grace would also act on these, which are
// left to Node's own handling:
// - SIGHUP: the terminal went away, or "reload" to some supervisors; not a stop request here.
// - SIGUSR2: nodemon's restart and other tools' own signal.
// - SIGQUIT, SIGTRAP, SIGABRT: asked for by someone debugging (a core dump, a debugger).
// - SIGILL, SIGBUS, SIGFPE, SIGSEGV: Node documents that JavaScript cannot safely run after them.
// - beforeExit: the event loop ran dry. A long-running server gets there only once its
//   server and connections are gone already; closing them again would log a clean stop
//   that nobody asked for, so the process simply ends as it would without a listener.
const LEFT_TO_NODE: closeWithGrace.AllEvents[] = [
  'SIGHUP', 'SIGUSR2', 'SIGQUIT', 'SIGTRAP', 'SIGABRT', 'SIGILL', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'beforeExit',
];

type Origin = 'uncaughtException' | 'unhandledRejection';

// a rejection's reason can be anything; pino's error serializer expects an object
function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { err } : { reason: err };
}

/**
 * Runs `close` once, then exits, when the process receives SIGTERM or SIGINT (exit 0) or
 * meets an uncaught exception or unhandled rejection (logged, exit 1). Shutdown is bounded:
 * exit 1 if `close` has not finished within `seconds` (a PaaS sends SIGKILL 30 s after
 * SIGTERM), or at once on a second SIGTERM/SIGINT. Logs "<name> stopping" and
 * "<name> stopped", which operators and tests read.
 */
export function exitOnSignals(o: { name: string; seconds: number; log: Logger; close: () => Promise<void> }): void {
  // close-with-grace passes the error without the event that brought it, and takes a falsy
  // one (`Promise.reject()`) for success; these listeners, placed before its own, record
  // the first failure as it happens
  let failure: { origin: Origin; err: unknown } | undefined;
  const record = (origin: Origin) => (err: unknown) => {
    failure ??= { origin, err };
  };
  process.prependListener('uncaughtException', record('uncaughtException'));
  process.prependListener('unhandledRejection', record('unhandledRejection'));

  closeWithGrace(
    {
      delay: o.seconds * 1000,
      skip: LEFT_TO_NODE,
      logger: false, // every line goes through pino, in the callbacks below
      onSecondSignal: (signal) => o.log.error({ signal }, `${o.name} received a second ${signal} while stopping; exiting now`),
      onSecondError: (err) => o.log.fatal(errorFields(err), `${o.name} failed again while stopping; exiting now`),
      onTimeout: () => o.log.error({ seconds: o.seconds }, `${o.name} shutdown timed out; exiting with work still open`),
    },
    // close-with-grace exits once this settles: 0 after a signal, 1 after an error or if it throws
    async ({ signal }) => {
      if (failure) {
        const what = failure.origin === 'unhandledRejection' ? 'an unhandled rejection' : 'an uncaught exception';
        o.log.fatal({ ...errorFields(failure.err), origin: failure.origin }, `${o.name} stopping after ${what}`);
      }
      o.log.info(failure ? { cause: failure.origin } : { signal }, `${o.name} stopping`);
      try {
        await o.close();
      } catch (closeErr) {
        o.log.error({ err: closeErr }, `${o.name} failed to close cleanly`);
        throw closeErr;
      }
      o.log.info({ exitCode: failure ? 1 : 0 }, `${o.name} stopped`);
      if (failure) process.exit(1);
    },
  );
}
