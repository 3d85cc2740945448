/** GET /metrics in Prometheus text format, and the HTTP request-duration histogram behind it. */
import type { FastifyPluginAsync } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { databaseMetrics, queueMetrics, readReplicaMetrics } from '../../metrics/collectors.js';
import { errorBody } from '../errors.js';
import { content, replies } from '../replies.js';
import { tag, type Security } from '../route-docs.js';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const metricsRoutes: FastifyPluginAsync = async (app) => {
  const { readPool, queues } = app.deps;
  // one registry per app, not prom-client's global one: tests build several apps in one process
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'slotwatch_' });
  // the database figures are counts a moment old at best, so the replica may serve them
  for (const metric of [...queueMetrics(queues), ...databaseMetrics(readPool), ...readReplicaMetrics(readPool)]) registry.registerMetric(metric as never);

  const httpDuration = new Histogram({
    name: 'slotwatch_http_request_duration_seconds',
    help: 'HTTP request durations by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    // the route pattern, not the URL: ids in paths would make a series per request
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.decorate('metricsRegistry', registry);

  const token = app.deps.config.METRICS_TOKEN;
  const security: Security = [{ metricsToken: [] }];
  const schema = {
    tags: tag('Operations'),
    summary: 'Prometheus metrics: queues, alerts, bookings, latencies, request durations',
    description:
      'Served on this port only when the server sets METRICS_TOKEN, and then only with it. Without one, `/metrics` is served on ' +
      '127.0.0.1:METRICS_PORT alone (no token: only the host itself reaches it), and this port answers 404.',
    security,
    response: replies({ 200: content('Prometheus text exposition format', 'text/plain') }, 'UNAUTHENTICATED', 'NOT_FOUND'),
  };
  app.get('/metrics', { schema }, async (request, reply) => {
    if (!token) return reply.code(404).send(errorBody('NOT_FOUND', 'no route for GET /metrics: metrics are served on the metrics port, on localhost'));
    if (!sameSecret(request.headers.authorization ?? '', `Bearer ${token}`)) {
      return reply.code(401).send(errorBody('UNAUTHENTICATED', 'send Authorization: Bearer <METRICS_TOKEN>'));
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};

// what fastify-plugin does: register in the parent's scope, so the onResponse hook above
// sees every route of the app and not only this plugin's own
Object.assign(metricsRoutes, { [Symbol.for('skip-override')]: true });
