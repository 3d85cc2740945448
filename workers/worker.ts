/** `npm run worker` / Procfile `worker:`: wires processors to queues; no logic of its own. */
import { loadConfigOrExit } from '../src/config.js';

const config = loadConfigOrExit();
const { log } = await import('../src/log.js');
const { startWorker } = await import('../src/jobs/runtime.js');
const { exitOnSignals } = await import('../src/shutdown.js');
log.level = config.LOG_LEVEL;

const running = await startWorker(config);
log.info({ queues: running.workers.map((w) => w.name) }, 'worker started');

exitOnSignals({ name: 'worker', seconds: config.SHUTDOWN_TIMEOUT_SECONDS, log, close: () => running.close() });
