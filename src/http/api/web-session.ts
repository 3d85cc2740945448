/**
 * JSON the learner pages need beyond the public API: POST/DELETE /api/web/session (the
 * cookie session: sign in, sign out) and GET /api/web/watches (each watch with the centres
 * it covers and their free slots).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkCredentials } from '../../accounts/credentials.js';
import { createSession, revokeSession } from '../../accounts/sessions.js';
import { userOf } from '../auth.js';
import { clearSessionCookie, csrfHeader, csrfMatches, csrfTokenFor, sessionCookieToken, setSessionCookie } from '../session.js';
import { HttpError } from '../errors.js';
import { Email, noBody, strictObject } from '../schemas.js';
import { loginLimits } from '../rate-limit.js';
import { watchCoverage } from '../../watches/coverage.js';

const SignInBody = strictObject({ email: Email, password: Type.String({ minLength: 1, maxLength: 200 }) });

export const webApiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, config } = app.deps;
  const secure = config.PUBLIC_BASE_URL.startsWith('https://');

  app.post(
    '/api/web/session',
    {
      schema: { body: SignInBody },
      preHandler: app.rateLimit(loginLimits(config)),
    },
    async (request, reply) => {
      const { email, password } = request.body;
      const user = await checkCredentials(pool, email, password);
      if (!user) throw new HttpError(401, 'INVALID_CREDENTIALS', 'email or password is wrong');
      const previous = sessionCookieToken(request);
      if (previous) await revokeSession(pool, previous);
      const { token, expiresAt } = await createSession(pool, user.id, config.SESSION_HOURS, request.ip);
      setSessionCookie(reply, token, expiresAt, secure);
      // the token stays in the HttpOnly cookie; the page gets only what it may hold
      return { user: { id: user.id, email: user.email, role: user.role }, csrfToken: csrfTokenFor(token), expiresAt: expiresAt.toISOString() };
    },
  );

  app.delete('/api/web/session', { preValidation: noBody }, async (request, res) => {
    const token = sessionCookieToken(request);
    if (token) {
      if (!csrfMatches(token, csrfHeader(request))) throw new HttpError(403, 'CSRF_INVALID', 'send the page\'s CSRF token in x-csrf-token');
      await revokeSession(pool, token);
    }
    clearSessionCookie(res, secure);
    return res.code(204).send();
  });

  app.get('/api/web/watches', { onRequest: app.authenticate }, async (request) => ({ watches: await watchCoverage(pool, userOf(request).id) }));
};
