/** `npm run web` / Procfile `web:`: builds the HTTP app and listens on PORT; no logic of its own. */
import { loadConfigOrExit } from '../src/config.js';

const config = loadConfigOrExit();
const { log } = await import('../src/log.js');
const { createPool } = await import('../src/db/pool.js');
const { createRedis } = await import('../src/queues/redis.js');
const { createQueues, closeQueues } = await import('../src/queues/queues.js');
const { buildApp } = await import('../src/http/app.js');
const { exitOnSignals } = await import('../src/shutdown.js');
log.level = config.LOG_LEVEL;

const pool = createPool(config.DATABASE_URL, { max: config.DATABASE_POOL_MAX, applicationName: 'slotwatch-web' });
const redis = createRedis(config.REDIS_URL, 'producer');
const queues = createQueues(redis, config.QUEUE_PREFIX);
const app = await buildApp({ config, pool, redis, queues, log });
const address = await app.listen({ port: config.PORT, host: '0.0.0.0' });
log.info({ address }, 'web listening');

exitOnSignals({
  name: 'web',
  seconds: config.SHUTDOWN_TIMEOUT_SECONDS,
  log,
  // reverse order of start: stop taking requests and let open ones finish, then the pools
  close: async () => {
    await app.close();
    await closeQueues(queues);
    redis.disconnect();
    await pool.end();
  },
});
