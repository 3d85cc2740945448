/** `npm run worker` / Procfile `worker:`: wires processors to queues; no logic of its own. */
import { loadConfigOrExit } from '../src/config.js';

const config = loadConfigOrExit();
const { log } = await import('../src/log.js');
const { startWorker } = await import('../src/worker/runtime.js');
log.level = config.LOG_LEVEL;

const running = await startWorker(config);
log.info({ queues: running.workers.map((w) => w.name) }, 'worker started');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  const timer = setTimeout(() => {
    log.error({ seconds: config.SHUTDOWN_TIMEOUT_SECONDS }, 'shutdown timed out; exiting with jobs still active');
    process.exit(1);
  }, config.SHUTDOWN_TIMEOUT_SECONDS * 1000);
  timer.unref();
  await running.close();
  log.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
