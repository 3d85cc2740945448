/** POST /api/auth/register, /api/auth/login, /api/auth/logout and GET /api/me. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { hashPassword } from '../../accounts/passwords.js';
import { revokeSession } from '../../accounts/sessions.js';
import { createUser, EmailTakenError } from '../../accounts/users.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { loginRateLimit, signIn } from '../login.js';
import { noContent, replies, User } from '../replies.js';
import { tag } from '../route-docs.js';
import { DateTime, Email, noBody, strictObject } from '../schemas.js';
import { bearerToken, clearSessionCookie, secureCookies, sessionCookieToken } from '../session.js';

const Password = Type.String({ minLength: 8, maxLength: 200 });
const Name = Type.String({ minLength: 1, maxLength: 100 });

const RegisterBody = strictObject({
  email: Email,
  password: Password,
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name),
});
const LoginBody = strictObject({ email: Email, password: Type.String({ minLength: 1, maxLength: 200 }) });
const UserReply = strictObject({ user: User });
const TokenReply = strictObject({
  token: Type.String({ description: 'Send as `Authorization: Bearer <token>`' }),
  expiresAt: DateTime,
  user: User,
});

export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, pool } = app.deps;

  const schema = { tags: tag('Accounts') };

  app.post('/api/auth/register', { schema: { ...schema, summary: 'Create a learner account', body: RegisterBody, response: replies({ 201: UserReply }, 'EMAIL_TAKEN') } }, async (request, reply) => {
    const { email, password, firstName, lastName } = request.body;
    const passwordHash = await hashPassword(password);
    try {
      const user = await createUser(pool, { email, passwordHash, role: 'CLIENT', firstName, lastName });
      return reply.code(201).send({ user });
    } catch (err) {
      if (err instanceof EmailTakenError) throw new HttpError('EMAIL_TAKEN', err.message);
      throw err;
    }
  });

  app.post(
    '/api/auth/login',
    { schema: { ...schema, summary: 'Sign in: a bearer token', body: LoginBody, response: replies({ 200: TokenReply }, 'INVALID_CREDENTIALS') }, preHandler: loginRateLimit(app) },
    async (request) => {
      const signedIn = await signIn(request, request.body);
      if (!signedIn.ok) throw new HttpError('INVALID_CREDENTIALS', 'email or password is wrong');
      return { token: signedIn.token, expiresAt: signedIn.expiresAt.toISOString(), user: signedIn.user };
    },
  );

  const logout = { ...schema, summary: 'Sign out: revoke this token or cookie session', response: { 204: noContent } };
  app.post('/api/auth/logout', { onRequest: app.authenticate, preValidation: noBody, schema: logout }, async (request, reply) => {
    // signed in by a bearer token or by the pages' cookie: whichever authenticated this request
    const token = bearerToken(request) ?? sessionCookieToken(request);
    if (token) await revokeSession(pool, token);
    if (!bearerToken(request)) clearSessionCookie(reply, secureCookies(config.PUBLIC_BASE_URL));
    return reply.code(204).send();
  });

  app.get('/api/me', { onRequest: app.authenticate, schema: { ...schema, summary: 'Who is signed in', response: { 200: UserReply } } }, async (request) => ({
    user: userOf(request),
  }));
};
