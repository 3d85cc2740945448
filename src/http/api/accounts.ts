/**
 * POST /api/auth/register, /api/auth/login, /api/auth/logout and GET /api/me.
 *
 * A sign-up answers the same (202, "check your inbox") whether or not the address has an
 * account, and takes the same time: the password is hashed either way and one statement
 * either inserts the account or finds the one there; what is mailed (a verification link,
 * or a note that someone tried) goes after the answer. An unverified account may sign in;
 * its watches alert once the address is verified.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { revokeSession } from '../../accounts/sessions.js';
import { findAccount, registerUser } from '../../accounts/users.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { loginRateLimit, signIn } from '../login.js';
import { registerLimits } from '../rate-limit.js';
import { noContent, replies, User } from '../replies.js';
import { tag } from '../route-docs.js';
import { DateTime, Email, noBody, strictObject } from '../schemas.js';
import { bearerToken, clearSessionCookie, secureCookies, sessionCookieToken } from '../session.js';
import { checkedName, checkNewPassword, CheckInbox, hashNewPassword, Name, NewPassword } from './account-fields.js';

const RegisterBody = strictObject({
  email: Email,
  password: NewPassword,
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name),
});
const MeReply = strictObject({
  user: User,
  emailVerified: Type.Boolean({ description: 'Whether the address is verified; until it is, watches send no alerts' }),
});
const LoginBody = strictObject({ email: Email, password: Type.String({ minLength: 1, maxLength: 200 }) });
const TokenReply = strictObject({
  token: Type.String({ description: 'Send as `Authorization: Bearer <token>`' }),
  expiresAt: DateTime,
  user: User,
});

export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, pool } = app.deps;

  const schema = { tags: tag('Accounts') };

  const registerSchema = {
    ...schema,
    summary: 'Sign up: mails a verification link',
    description:
      'Answers 202 with the same body whether or not the address has an account. A new address gets a link to verify it (until then the account may sign in but its watches send no alerts); an address with an account gets a note that someone tried to sign up with it (an unverified one, a fresh link).',
    body: RegisterBody,
    response: replies({ 202: CheckInbox }, 'WEAK_PASSWORD', 'SERVER_BUSY'),
  };
  app.post('/api/auth/register', { schema: registerSchema, preHandler: app.rateLimit(registerLimits(config), { failClosed: 'signing up' }) }, async (request, reply) => {
    const { email, password } = request.body;
    const firstName = checkedName(request.body.firstName, 'firstName');
    const lastName = checkedName(request.body.lastName, 'lastName');
    await checkNewPassword(password, 'password');
    const passwordHash = await hashNewPassword(app, password);
    const registration = await registerUser(pool, { email, passwordHash, firstName, lastName });
    app.accountMail.afterRegistration(email, registration);
    return reply.code(202).send({ message: 'Check your inbox: we have sent an email to finish signing up.' });
  });

  app.post(
    '/api/auth/login',
    {
      schema: {
        ...schema,
        summary: 'Sign in: a bearer token',
        description:
          'Also sets the `sw_device` cookie: a client that sends it back when it next signs in to this address is counted on its own, so other clients\' failures neither slow nor refuse it.',
        body: LoginBody,
        response: replies({ 200: TokenReply }, 'INVALID_CREDENTIALS'),
      },
      preHandler: loginRateLimit(app),
    },
    async (request, reply) => {
      const signedIn = await signIn(request, reply, request.body);
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

  app.get('/api/me', { onRequest: app.authenticate, schema: { ...schema, summary: 'Who is signed in', response: { 200: MeReply } } }, async (request) => {
    const user = userOf(request);
    const account = await findAccount(pool, user.id);
    return { user, emailVerified: account?.verified ?? false };
  });
};
