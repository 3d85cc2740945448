/** `npm run web` / Procfile `web:`: builds the HTTP app and listens on PORT, and on METRICS_PORT for /metrics; no logic of its own. */
import { loadConfigOrExit } from '../src/config.js';

// the web process keys its rate limits and device cookies with SECRET_KEY
const config = loadConfigOrExit(process.env, { require: ['SECRET_KEY'] });
const { log } = await import('../src/log.js');
const { createDeps, closeDeps } = await import('../src/process/deps.js');
const { buildApp } = await import('../src/http/app.js');
const { listenForMetrics } = await import('../src/http/metrics-listener.js');
const { exitOnSignals } = await import('../src/shutdown.js');
log.level = config.LOG_LEVEL;

const deps = createDeps(config, 'web', log);
const app = await buildApp(deps);
const address = await app.listen({ port: config.PORT, host: '0.0.0.0' });
log.info({ address }, 'web listening');
const metrics = config.METRICS_PORT === 'off' ? null : await listenForMetrics(app, config.METRICS_PORT);

exitOnSignals({
  name: 'web',
  seconds: config.SHUTDOWN_TIMEOUT_SECONDS,
  log,
  // reverse order of start: stop taking requests and let open ones finish, then the pools
  close: async () => {
    await metrics?.close();
    await app.close();
    await closeDeps(deps);
  },
});
