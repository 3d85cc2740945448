/**
 * The API described: an OpenAPI 3.1 document that @fastify/swagger builds from the routes'
 * own schemas (plus what route-docs.ts derives), served at GET /api/openapi.json, and
 * Swagger UI at /api/docs with its assets from the @fastify/swagger-ui package (no CDN).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { projectRoot } from '../paths.js';
import { ERROR_CODE_NAMES, ERROR_CODES } from './error-codes.js';
import { content, htmlPage, redirect, replies } from './replies.js';
import { documentRoute, tag, TAGS } from './route-docs.js';

export const DOCS_PATH = '/api/docs';

// Swagger UI's page loads only its own files: scripts and styles from this site, no inline
// script (its start-up code is a file, swagger-initializer.js), data: images for its icons and
// logo, and fetches of the document and of "try it out" requests to this site
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;

const DESCRIPTION = `Slot alerts and booking for driving tests.

**Signing in.** API clients send \`Authorization: Bearer <token>\` with the token from
\`POST /api/auth/login\`. The learner pages use the \`sw_session\` cookie from
\`POST /api/web/session\` instead; with the cookie, every request that changes something
must also send the \`x-csrf-token\` header that sign-in answered. The admin queue board
has its own cookie, \`sw_admin\`, from \`POST /admin/login\`.

**Errors.** Every error is \`{"error":{"code","message"}}\`. Each response lists the codes it
can carry; \`components.schemas.ErrorCode\` (and \`x-error-codes\`) lists them all, as does
docs/errors.md. A URL no route answers is \`404 NOT_FOUND\`.`;

// Routes that plugins register without a schema of ours (static files, Swagger UI, the
// queue board's front door), described here by path. Bull Board's own browser routes and
// JSON API under /admin/queues/ stay hidden, as Bull Board registers them: they are its
// internals, follow its version, and are for its page, not for clients.
const file = (description: string) => content(description, '*/*');
const PLUGIN_ROUTES: Record<string, FastifySchema> = {
  '/assets/*': { tags: tag('Pages'), summary: "The learner pages' scripts, styles and icons", response: replies({ 200: file('The file') }, 'NOT_FOUND') },
  [DOCS_PATH]: { tags: tag('Docs'), summary: 'Swagger UI: this document, browsable', response: { 200: htmlPage('Swagger UI') } },
  [`${DOCS_PATH}/json`]: { tags: tag('Docs'), summary: 'This document, as Swagger UI loads it', response: { 200: content('This document', 'application/json', Type.Object({})) } },
  [`${DOCS_PATH}/yaml`]: { tags: tag('Docs'), summary: 'This document in YAML', response: { 200: content('This document', 'application/x-yaml') } },
  [`${DOCS_PATH}/static/index.html`]: { tags: tag('Docs'), summary: 'Swagger UI, by its old address', response: { 302: redirect('To /api/docs/') } },
  [`${DOCS_PATH}/static/swagger-initializer.js`]: { tags: tag('Docs'), summary: "Swagger UI's start-up script", response: { 200: content('The script', 'application/javascript') } },
  [`${DOCS_PATH}/static/*`]: { tags: tag('Docs'), summary: "Swagger UI's files, from its package", response: replies({ 200: file('The file') }, 'NOT_FOUND') },
  '/admin/queues': {
    tags: tag('Queue board'),
    summary: 'The queue board (Bull Board), for ADMIN only',
    security: [{ adminCookie: [] }],
    response: {
      200: htmlPage('The board'),
      303: redirect('Not signed in, asking for HTML: to /admin/login'),
      ...replies({}, 'UNAUTHENTICATED'),
      403: {
        description: 'Signed in, but not an ADMIN: a page when HTML was asked for, else FORBIDDEN',
        content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: replies({}, 'FORBIDDEN')[403] } },
      },
    },
  },
};

// everything the document says besides its paths
const DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'slotwatch API', version, description: DESCRIPTION },
  tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'A session token from POST /api/auth/login' },
      learnerCookie: { type: 'apiKey', in: 'cookie', name: 'sw_session', description: "The learner pages' session cookie, set by POST /api/web/session (HttpOnly)" },
      csrfToken: { type: 'apiKey', in: 'header', name: 'x-csrf-token', description: 'The csrfToken POST /api/web/session answered; needed with the cookie on every change' },
      adminCookie: { type: 'apiKey', in: 'cookie', name: 'sw_admin', description: "The queue board's session cookie, set by POST /admin/login (ADMIN only)" },
      metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when the server sets one' },
    },
    schemas: {
      ErrorCode: {
        type: 'string',
        enum: ERROR_CODE_NAMES,
        description: [
          'Every error code; each response lists its own.',
          '',
          '| Code | Status | Meaning |',
          '| --- | --- | --- |',
          ...ERROR_CODE_NAMES.map((c) => `| ${c} | ${ERROR_CODES[c].status} | ${ERROR_CODES[c].meaning.replace(/\|/g, '\\|')} |`),
        ].join('\n'),
      },
    },
  },
  // the catalogue as data, for clients that generate code from the document
  'x-error-codes': ERROR_CODES,
} as const;

/** Registers @fastify/swagger; call before any route, so it sees them all. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: DOCUMENT,
    transform: ({ schema, url, route }) => {
      // a plugin's '/' route answers at /prefix and /prefix/, and its options keep the latter
      const path = url.length > 1 ? url.replace(/\/$/, '') : url;
      const own = PLUGIN_ROUTES[path] ?? schema;
      if (!own || own.hide) return { schema: own, url: path };
      // a wildcard's value is a file path; fastify names it '*'
      return { schema: documentRoute(route, own), url: path.replace('*', '{path}') };
    },
  });
}

// BaseLayout: the page shows this document only, without the top bar for exploring other
// URLs, whose Swagger logo is an SVG with a <style> element the policy would refuse
const uiConfig = { layout: 'BaseLayout', deepLinking: true };

/** GET /api/openapi.json and Swagger UI at /api/docs. */
export const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/openapi.json',
    { schema: { tags: tag('Docs'), summary: 'This document (OpenAPI 3.1)', response: { 200: content('This document', 'application/json', Type.Object({})) } } },
    async () => app.swagger(),
  );
  // its CSP is set on its own routes only (its plugin's scope), not on the JSON API
  await app.register(swaggerUi, { routePrefix: DOCS_PATH, staticCSP: DOCS_CSP, theme: { title: 'slotwatch API' }, uiConfig });
};
