/**
 * The HTTP edge: the fastify app, built apart from listen() so tests drive it with
 * app.inject(). Every route plugin is listed once in `routes` below.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import cookie from '@fastify/cookie';
import { AccountMail } from '../accounts/account-mail.js';
import { HashLane } from '../accounts/hash-lane.js';
import type { Deps } from '../process/deps.js';
import './fastify-types.js';
import { registerAuth } from './auth.js';
import type { ErrorCode } from './error-codes.js';
import { describeValidation, errorBody, HttpError } from './errors.js';
import { registerSecurityHeaders } from './headers.js';
import { dependencyUnavailable } from './unavailable.js';
import { docsRoutes, registerOpenApi } from './openapi.js';
import { registerRateLimit } from './rate-limit.js';
import { derivedKeys } from './secret-key.js';
import { accountLinkRoutes } from './api/account-links.js';
import { accountRoutes } from './api/accounts.js';
import { passwordRoutes } from './api/password.js';
import { adminRoutes } from './api/admin.js';
import { appointmentRoutes } from './api/appointments.js';
import { healthRoutes } from './api/health.js';
import { metricsRoutes } from './api/metrics.js';
import { myAlertsRoutes } from './api/my-alerts.js';
import { operatorRoutes } from './api/operator.js';
import { postcodeRoutes } from './api/postcodes.js';
import { privacyRoutes } from './api/privacy.js';
import { pushRoutes } from './api/push.js';
import { quietHoursRoutes } from './api/quiet-hours.js';
import { slotRoutes } from './api/slots.js';
import { watchRoutes } from './api/watches.js';
import { webSessionRoutes } from './api/web-session.js';
import { boardRoutes } from './pages/board.js';
import { learnerPageRoutes } from './pages/learner.js';
import { unsubscribeRoutes } from './pages/unsubscribe.js';

/**
 * Every route plugin, registered in this order: the JSON API (src/http/api/), then the
 * pages (src/http/pages/). Append yours.
 */
export const routes: FastifyPluginAsync[] = [
  metricsRoutes, // first: its onResponse hook times every route after it
  healthRoutes,
  accountRoutes,
  accountLinkRoutes,
  passwordRoutes,
  webSessionRoutes,
  operatorRoutes,
  slotRoutes,
  appointmentRoutes,
  watchRoutes,
  postcodeRoutes,
  quietHoursRoutes,
  myAlertsRoutes,
  adminRoutes,
  pushRoutes,
  privacyRoutes,
  boardRoutes,
  unsubscribeRoutes,
  learnerPageRoutes, // helmet and CSP in their own scope (the account pages register inside it)
  docsRoutes, // GET /api/openapi.json and Swagger UI, its CSP in its own scope
];

registerAjvFormats(); // uuid, date-time, email ... for typebox's compiler

// a restart of PostgreSQL or a Redis failover takes seconds; a client asked to wait longer only waits longer
const DEPENDENCY_RETRY_SECONDS = 2;

/** Builds the HTTP app on `deps` without listening; the caller listens or injects. */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  derivedKeys(deps.config); // SECRET_KEY: refuse to start without it rather than at the first sign-in
  const hops = deps.config.TRUST_PROXY_HOPS;
  const app: FastifyInstance = Fastify({
    // pino's Logger is what fastify logs with; its own type is the narrower base interface
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    // behind a PaaS router the client's address is in X-Forwarded-For; trust only that many hops
    trustProxy: hops > 0 ? (_address: string, hop: number) => hop < hops : false,
    return503OnClosing: true,
    // the router's own refusals (malformed URL, a path parameter over 100 characters) in our shape
    frameworkErrors: (err, _request, reply) => {
      const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      (reply as FastifyReply).code(status).send(errorBody(status === 414 ? 'URI_TOO_LONG' : 'BAD_URL', status === 414 ? 'a path parameter is too long' : 'the URL is malformed'));
    },
  });
  // typebox checks types strictly in bodies ("5" is not 5) and converts only query strings,
  // params and headers, which are text by nature
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // Response schemas are there to document the API (openapi.ts). Given one, fastify would
  // serialise with fast-json-stringify, which silently drops fields the schema does not
  // name and coerces types; bodies stay exactly what JSON.stringify makes of what a route
  // returns, and the tests check them against the document instead.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.decorate('deps', deps);
  app.decorate('hashLane', new HashLane(deps.config.PASSWORD_HASH_CONCURRENCY, deps.config.PASSWORD_HASH_QUEUE));
  const accountMail = new AccountMail(deps.pool, deps.config, deps.log);
  app.decorate('accountMail', accountMail);
  // emails already promised in an answer go out before the pool closes
  app.addHook('onClose', () => accountMail.close());

  // an empty body with Content-Type: application/json is "no body", not a parse error:
  // clients often send the header on POSTs that carry nothing (hold, confirm, cancel)
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, done);
  });

  // at the root, so every scope reads and writes cookies the same way (session.ts)
  await app.register(cookie);
  // before every route and handler, so nothing answers without the baseline
  registerSecurityHeaders(app, deps.config.PUBLIC_BASE_URL);
  registerAuth(app);
  registerRateLimit(app);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError) {
      if (err.statusCode >= 500) request.log.error({ err }, 'request failed');
      return reply.headers(err.headers).code(err.statusCode).send(errorBody(err.code, err.message));
    }
    if (err.validation) {
      return reply.code(400).send(errorBody('VALIDATION_ERROR', describeValidation(err.validationContext ?? 'request', err.validation)));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // fastify's own refusals (bad JSON, body too large, wrong content type): their messages are safe
      return reply.code(status).send(errorBody(clientErrorCode(err, status), err.message));
    }
    if (typeof err.code === 'string' && /^22[0-9A-Z]{3}$/.test(err.code)) {
      // a PostgreSQL data exception means a value got past validation: the caller's mistake, and our gap
      request.log.warn({ err }, 'invalid value reached the database');
      return reply.code(400).send(errorBody('INVALID_VALUE', 'a value in the request is out of range or malformed'));
    }
    if (dependencyUnavailable(err)) {
      request.log.warn({ err }, 'request refused: a service it needs is not answering');
      return reply
        .header('retry-after', String(DEPENDENCY_RETRY_SECONDS))
        .code(503)
        .send(errorBody('DEPENDENCY_UNAVAILABLE', 'the service is briefly unavailable; try again in a few seconds'));
    }
    request.log.error({ err }, 'request failed');
    return reply.code(status >= 500 && status < 600 ? status : 500).send(errorBody('INTERNAL_ERROR', 'something went wrong on our side; try again'));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });

  // every route's method and path, so tests can walk all of them (auth, bad input)
  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routeTable.push({ method, url: route.url });
  });

  await registerOpenApi(app); // before the routes: it collects them as they are added
  for (const plugin of routes) await app.register(plugin);
  return app;
}

function clientErrorCode(err: FastifyError, status: number): ErrorCode {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'BODY_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'BAD_CONTENT_LENGTH';
    default:
      if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return 'INVALID_JSON';
      return status === 404 ? 'NOT_FOUND' : status === 405 ? 'METHOD_NOT_ALLOWED' : status === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST';
  }
}
