/** GET /healthz (the process answers) and GET /readyz (PostgreSQL and Redis answer too). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { lastHeartbeat } from '../../queues/heartbeat.js';
import { errorBody } from '../errors.js';
import { replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { strictObject } from '../schemas.js';

/** The release poller counts as stuck after this many poll intervals without a completed poll. */
export const POLLER_STALE_INTERVALS = 5;

const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer in ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref()),
  ]);
}

const Ok = Type.Literal('ok');
const liveSchema = { tags: tag('Operations'), summary: 'Liveness: the process answers', response: replies({ 200: strictObject({ status: Ok }) }) };
const readySchema = {
  tags: tag('Operations'),
  summary: 'Readiness: PostgreSQL and Redis answer, and the release poller keeps polling',
  response: replies({ 200: strictObject({ status: Type.Literal('ready'), postgres: Ok, redis: Ok, poller: Ok }) }, 'NOT_READY', 'POLLER_STALLED'),
};

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { schema: liveSchema }, async () => ({ status: 'ok' as const }));

  const startedAt = Date.now();

  /** Why the release poller looks stuck, or null while it keeps polling (or may still be starting). */
  async function pollerProblem(): Promise<string | null> {
    const { redis, config } = app.deps;
    const intervalMs = (await app.deps.settings.get('release_poll_seconds')) * 1000;
    const last = await lastHeartbeat(redis, config.QUEUE_PREFIX, 'poll-releases');
    // with no poll on record, allow a fresh deployment's workers the same time to start
    const since = last ?? startedAt;
    const ageMs = Date.now() - since;
    if (ageMs <= POLLER_STALE_INTERVALS * intervalMs) return null;
    return last === null
      ? `the release poller has not completed a poll since this process started ${Math.round(ageMs / 1000)} s ago`
      : `the release poller last completed a poll ${Math.round(ageMs / 1000)} s ago (more than ${POLLER_STALE_INTERVALS} intervals of ${intervalMs / 1000} s)`;
  }

  app.get('/readyz', { schema: readySchema }, async (request, reply) => {
    const { pool, redis } = app.deps;
    const [db, cache] = await Promise.allSettled([
      withTimeout(pool.query('SELECT 1'), 'PostgreSQL'),
      withTimeout(redis.ping(), 'Redis'),
    ]);
    const failed = [db.status === 'rejected' ? 'PostgreSQL' : null, cache.status === 'rejected' ? 'Redis' : null].filter(Boolean);
    if (failed.length) {
      request.log.warn({ db: db.status, redis: cache.status }, 'not ready');
      return reply.code(503).send(errorBody('NOT_READY', `${failed.join(' and ')} not answering`));
    }
    let stuck: string | null;
    try {
      stuck = await withTimeout(pollerProblem(), 'the poller check');
    } catch (err) {
      // PostgreSQL or Redis answered SELECT 1 and PING but not the settings or the heartbeat
      // in time (a pool with every connection busy, a server restarting): not ready, not our fault
      request.log.warn({ err }, 'not ready');
      return reply.code(503).send(errorBody('NOT_READY', 'the release poller could not be checked: PostgreSQL or Redis is slow to answer'));
    }
    if (stuck) {
      request.log.warn({ reason: stuck }, 'not ready');
      return reply.code(503).send(errorBody('POLLER_STALLED', stuck));
    }
    return { status: 'ready' as const, postgres: 'ok' as const, redis: 'ok' as const, poller: 'ok' as const };
  });
};
