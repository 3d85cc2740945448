/**
 * The metrics port: GET /metrics on 127.0.0.1:METRICS_PORT, without a token, for a
 * Prometheus on the same host (or a sidecar sharing its network). Bound to the loopback
 * address so that nothing off the host reaches it, and apart from the public port so that
 * /metrics needs no secret to be private.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { errorBody } from './errors.js';
import { registerSecurityHeaders } from './headers.js';

export const METRICS_HOST = '127.0.0.1';

/** The metrics port's own small app, rendering `app`'s registry; not listening yet. */
export async function buildMetricsApp(app: FastifyInstance): Promise<FastifyInstance> {
  const registry = app.metricsRegistry;
  // a scrape every few seconds is not worth a log line
  const server = Fastify({
    loggerInstance: app.log.child({ listener: 'metrics' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerSecurityHeaders(server, app.deps.config.PUBLIC_BASE_URL);
  server.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  server.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}: this port serves GET /metrics only`));
  });
  await server.ready();
  return server;
}

/**
 * Serves `app`'s metrics on 127.0.0.1:`port` (0: any free port, which is logged). When the
 * port is taken, most likely by another web process on this host, this one serves no
 * metrics and says so, rather than failing to start: give each its own METRICS_PORT.
 * Returns how to close it, or null when it is not listening.
 */
export async function listenForMetrics(app: FastifyInstance, port: number): Promise<{ address: string; close(): Promise<void> } | null> {
  const server = await buildMetricsApp(app);
  try {
    const address = await server.listen({ port, host: METRICS_HOST });
    app.log.info({ address: `${address}/metrics` }, 'metrics listening');
    return { address, close: () => server.close() };
  } catch (err) {
    await server.close();
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    app.log.warn({ port }, 'metrics port in use (another web process on this host?): this process serves no /metrics; give each web process its own METRICS_PORT');
    return null;
  }
}
