/** POST /api/auth/register, /api/auth/login, /api/auth/logout and GET /api/me. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkCredentials } from '../../accounts/credentials.js';
import { hashPassword } from '../../accounts/passwords.js';
import { createSession, revokeSession } from '../../accounts/sessions.js';
import { createUser, EmailTakenError } from '../../accounts/users.js';
import { bearerToken, userOf } from '../auth.js';
import { clearSessionCookie, sessionCookieToken } from '../session.js';
import { HttpError } from '../errors.js';
import { loginLimits } from '../rate-limit.js';
import { Email, noBody, strictObject } from '../schemas.js';

const Password = Type.String({ minLength: 8, maxLength: 200 });
const Name = Type.String({ minLength: 1, maxLength: 100 });

const RegisterBody = strictObject({
  email: Email,
  password: Password,
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name),
});
const LoginBody = strictObject({ email: Email, password: Type.String({ minLength: 1, maxLength: 200 }) });


export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, pool } = app.deps;

  app.post('/api/auth/register', { schema: { body: RegisterBody } }, async (request, reply) => {
    const { email, password, firstName, lastName } = request.body;
    const passwordHash = await hashPassword(password);
    try {
      const user = await createUser(pool, { email, passwordHash, role: 'CLIENT', firstName, lastName });
      return reply.code(201).send({ user });
    } catch (err) {
      if (err instanceof EmailTakenError) throw new HttpError(409, 'EMAIL_TAKEN', err.message);
      throw err;
    }
  });

  app.post(
    '/api/auth/login',
    {
      schema: { body: LoginBody },
      preHandler: app.rateLimit(loginLimits(config)),
    },
    async (request) => {
      const { email, password } = request.body;
      const user = await checkCredentials(pool, email, password);
      if (!user) throw new HttpError(401, 'INVALID_CREDENTIALS', 'email or password is wrong');
      const { token, expiresAt } = await createSession(pool, user.id, config.SESSION_HOURS, request.ip);
      return { token, expiresAt: expiresAt.toISOString(), user: { id: user.id, email: user.email, role: user.role } };
    },
  );

  app.post('/api/auth/logout', { onRequest: app.authenticate, preValidation: noBody }, async (request, reply) => {
    // signed in by a bearer token or by the pages' cookie: whichever authenticated this request
    const token = bearerToken(request) ?? sessionCookieToken(request);
    if (token) await revokeSession(pool, token);
    if (!bearerToken(request)) clearSessionCookie(reply, config.PUBLIC_BASE_URL.startsWith('https://'));
    return reply.code(204).send();
  });

  app.get('/api/me', { onRequest: app.authenticate }, async (request) => ({ user: userOf(request) }));
};
