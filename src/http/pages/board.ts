/**
 * The admin queue board (Bull Board) at /admin/queues, for ADMIN only, with its own sign-in
 * page at /admin/login. The board is a browser app, so it is signed in by an HttpOnly
 * session cookie (never a token in the URL); the cookie holds a session token from the same
 * sessions table as bearer tokens. Job payloads carry ids only, so nothing personal shows.
 */
import formbody from '@fastify/formbody';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { revokeSession, userForToken } from '../../accounts/sessions.js';
import { errorBody } from '../errors.js';
import { loginRateLimit, signIn } from '../login.js';
import { htmlPage, redirect } from '../replies.js';
import { tag, type Security } from '../route-docs.js';
import { strictObject } from '../schemas.js';
import { allQueues } from '../../queues/queues.js';
import { adminCookieToken, clearAdminCookie, secureCookies, setAdminCookie } from '../session.js';
import { loginPage, refusedPage } from './admin-login.js';

export const BOARD_PATH = '/admin/queues';
// the board hands out shorter sessions than the learner pages: it can retry and pause every queue
const ADMIN_SESSION_HOURS = 12;

const LoginForm = strictObject({
  email: Type.String({ minLength: 3, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 200 }),
});

const tags = tag('Queue board');
const loginFormSchema = { tags, summary: 'The queue board\'s sign-in page', response: { 200: htmlPage('The sign-in form') } };
const loginSchema = {
  tags,
  summary: 'Sign in to the queue board (ADMIN only): sets the sw_admin cookie',
  consumes: ['application/x-www-form-urlencoded'],
  body: LoginForm,
  response: {
    303: redirect('Signed in: to the board'),
    401: htmlPage('The form again: email or password is wrong'),
    403: htmlPage('Not an ADMIN: no session is opened'),
  },
};
const logoutSecurity: Security = [{}, { adminCookie: [] }];
const logoutSchema = { tags, summary: 'Sign out of the queue board', security: logoutSecurity, response: { 303: redirect('To the sign-in page') } };

function wantsHtml(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

// Bull Board's page: its scripts, styles and icons from its own static files under the
// board's path, a web worker of its own, its JSON API, inline style attributes (its
// loading screen and React's markup); its <base href> is this site. The Google Fonts
// stylesheet it links is refused (the board falls back to system fonts) rather than
// telling a third party who the admins are.
const BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function html(reply: FastifyReply, status: number, body: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
    .send(body);
}

export const boardRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, queues, config } = app.deps;
  const secure = secureCookies(config.PUBLIC_BASE_URL);
  await app.register(formbody);

  app.get('/admin/login', { schema: loginFormSchema }, async (request, reply) => html(reply, 200, loginPage({ next: BOARD_PATH })));

  app.post('/admin/login', { schema: loginSchema, preHandler: loginRateLimit(app) }, async (request, reply) => {
    const signedIn = await signIn(request, reply, request.body, { role: 'ADMIN', hours: Math.min(config.SESSION_HOURS, ADMIN_SESSION_HOURS) });
    if (!signedIn.ok && signedIn.reason === 'INVALID_CREDENTIALS') return html(reply, 401, loginPage({ next: BOARD_PATH, error: 'Email or password is wrong.' }));
    if (!signedIn.ok) return html(reply, 403, refusedPage());
    setAdminCookie(reply, signedIn.token, signedIn.expiresAt, secure);
    return reply.redirect(BOARD_PATH, 303);
  });

  app.post('/admin/logout', { schema: logoutSchema }, async (request, reply) => {
    const token = adminCookieToken(request);
    if (token) await revokeSession(pool, token);
    clearAdminCookie(reply);
    return reply.redirect('/admin/login', 303);
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: allQueues(queues).map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'slotwatch queues' } },
  });

  await app.register(async (board) => {
    // every board request, page or API, needs an admin's session cookie
    board.addHook('onRequest', async (request, reply) => {
      const token = adminCookieToken(request);
      const user = token ? await userForToken(pool, token) : null;
      if (!user) {
        if (wantsHtml(request)) return reply.redirect('/admin/login', 303);
        return reply.code(401).send(errorBody('UNAUTHENTICATED', 'sign in at /admin/login'));
      }
      if (user.role !== 'ADMIN') {
        if (wantsHtml(request)) return html(reply, 403, refusedPage());
        return reply.code(403).send(errorBody('FORBIDDEN', 'the queue board is for admins'));
      }
      request.user = user;
    });
    // on its scripts too: a web worker runs under the policy its own script came with
    board.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', BOARD_CSP);
      return payload;
    });
    await board.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
};
