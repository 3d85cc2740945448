/** The learner pages' cookie session: POST /api/web/session signs in, DELETE signs out. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { revokeSession } from '../../accounts/sessions.js';
import { HttpError } from '../errors.js';
import { loginRateLimit, signIn } from '../login.js';
import { noContent, replies, User } from '../replies.js';
import { tag, type Security } from '../route-docs.js';
import { DateTime, Email, noBody, strictObject } from '../schemas.js';
import { clearSessionCookie, csrfHeader, csrfMatches, csrfTokenFor, secureCookies, sessionCookieToken, setSessionCookie } from '../session.js';

const SignInBody = strictObject({ email: Email, password: Type.String({ minLength: 1, maxLength: 200 }) });
const SessionReply = strictObject({
  user: User,
  csrfToken: Type.String({ description: 'Send as `x-csrf-token` on every change made with the cookie' }),
  expiresAt: DateTime,
});

export const webSessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, config } = app.deps;
  const secure = secureCookies(config.PUBLIC_BASE_URL);

  const signInSchema = {
    tags: tag('Learner session'),
    summary: 'Sign in: sets the sw_session cookie',
    description: 'The token stays in the HttpOnly cookie; the page gets the CSRF token it must send with changes.',
    body: SignInBody,
    response: replies({ 200: SessionReply }, 'INVALID_CREDENTIALS'),
  };
  app.post('/api/web/session', { schema: signInSchema, preHandler: loginRateLimit(app) }, async (request, reply) => {
    const signedIn = await signIn(request, reply, request.body, { replaces: sessionCookieToken(request) });
    if (!signedIn.ok) throw new HttpError('INVALID_CREDENTIALS', 'email or password is wrong');
    setSessionCookie(reply, signedIn.token, signedIn.expiresAt, secure);
    // the token stays in the HttpOnly cookie; the page gets only what it may hold
    return { user: signedIn.user, csrfToken: csrfTokenFor(signedIn.token), expiresAt: signedIn.expiresAt.toISOString() };
  });

  // signed out already is fine; the cookie, when sent, needs its CSRF token
  const signOutSecurity: Security = [{}, { learnerCookie: [], csrfToken: [] }];
  const signOutSchema = {
    tags: tag('Learner session'),
    summary: 'Sign out: revokes the cookie session and clears the cookie',
    security: signOutSecurity,
    response: replies({ 204: noContent }, 'CSRF_INVALID'),
  };
  app.delete('/api/web/session', { preValidation: noBody, schema: signOutSchema }, async (request, res) => {
    const token = sessionCookieToken(request);
    if (token) {
      if (!csrfMatches(token, csrfHeader(request))) throw new HttpError('CSRF_INVALID', 'send the page\'s CSRF token in x-csrf-token');
      await revokeSession(pool, token);
    }
    clearSessionCookie(res, secure);
    return res.code(204).send();
  });
};
