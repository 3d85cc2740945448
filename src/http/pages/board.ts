/**
 * The admin queue board (Bull Board) at /admin/queues, for ADMIN only, with its own sign-in
 * page at /admin/login. The board is a browser app, so it is signed in by an HttpOnly
 * session cookie (never a token in the URL); the cookie holds a session token from the same
 * sessions table as bearer tokens. Job payloads carry ids only, so nothing personal shows.
 */
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { checkCredentials } from '../../accounts/credentials.js';
import { createSession, revokeSession, userForToken } from '../../accounts/sessions.js';
import { errorBody } from '../errors.js';
import { loginLimits } from '../rate-limit.js';
import { loginPage, refusedPage } from './admin-login.js';
import { strictObject } from '../schemas.js';

export const BOARD_PATH = '/admin/queues';
const COOKIE = 'sw_admin';

const LoginForm = strictObject({
  email: Type.String({ minLength: 3, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 200 }),
});

function wantsHtml(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

function html(reply: FastifyReply, status: number, body: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .send(body);
}

export const boardRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, queues, config } = app.deps;
  const secure = config.PUBLIC_BASE_URL.startsWith('https://');
  await app.register(cookie);
  await app.register(formbody);

  app.get('/admin/login', async (request, reply) => html(reply, 200, loginPage({ next: BOARD_PATH })));

  app.post('/admin/login', { schema: { body: LoginForm }, preHandler: app.rateLimit(loginLimits(config)) }, async (request, reply) => {
    const { email, password } = request.body;
    const user = await checkCredentials(pool, email, password);
    if (!user) return html(reply, 401, loginPage({ next: BOARD_PATH, error: 'Email or password is wrong.' }));
    if (user.role !== 'ADMIN') return html(reply, 403, refusedPage());
    const { token, expiresAt } = await createSession(pool, user.id, Math.min(config.SESSION_HOURS, 12), request.ip);
    reply.setCookie(COOKIE, token, { httpOnly: true, secure, sameSite: 'strict', path: '/admin', expires: expiresAt });
    return reply.redirect(BOARD_PATH, 303);
  });

  app.post('/admin/logout', async (request, reply) => {
    const token = request.cookies[COOKIE];
    if (token) await revokeSession(pool, token);
    reply.clearCookie(COOKIE, { path: '/admin' });
    return reply.redirect('/admin/login', 303);
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: Object.values(queues).map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'slotwatch queues' } },
  });

  await app.register(async (board) => {
    // every board request, page or API, needs an admin's session cookie
    board.addHook('onRequest', async (request, reply) => {
      const token = request.cookies[COOKIE];
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
    await board.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
};
