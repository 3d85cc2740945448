/**
 * A signed-in user's password and sessions: change the password (the current one
 * required; every other session is signed out) and sign out everywhere.
 */
import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { verifyPassword } from '../../accounts/passwords.js';
import { changePassword } from '../../accounts/recovery.js';
import { revokeAllSessions } from '../../accounts/sessions.js';
import { findAccount } from '../../accounts/users.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { noContent, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { noBody, strictObject } from '../schemas.js';
import { bearerToken, clearSessionCookie, secureCookies, sessionCookieToken } from '../session.js';
import { Type } from '@fastify/type-provider-typebox';
import { checkNewPassword, hashNewPassword, NewPassword } from './account-fields.js';

const ChangeBody = strictObject({ currentPassword: Type.String({ minLength: 1, maxLength: 200 }), newPassword: NewPassword });

export const passwordRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, pool } = app.deps;
  const tags = tag('Accounts');
  // a stolen session must not make the password a free guessing game: counted like sign-ins
  // and, guarding a password, refused while the counter is unreachable
  const guesses = app.rateLimit([{ name: 'password-user', max: config.LOGIN_LIMIT_PER_MINUTE, key: (r) => userOf(r).id }], { failClosed: 'changing the password' });

  const changeSchema = {
    tags,
    summary: 'Change the password',
    description: 'Needs the current password. Every other session of the account is signed out; this one stays.',
    body: ChangeBody,
    response: replies({ 204: noContent }, 'WRONG_PASSWORD', 'WEAK_PASSWORD', 'SERVER_BUSY'),
  };
  app.post('/api/me/password', { onRequest: app.authenticate, preHandler: guesses, schema: changeSchema }, async (request, reply) => {
    const user = userOf(request);
    const { currentPassword, newPassword } = request.body;
    await checkNewPassword(newPassword, 'newPassword');
    const account = await findAccount(pool, user.id);
    if (!account || !(await verifyPassword(currentPassword, account.passwordHash))) {
      throw new HttpError('WRONG_PASSWORD', 'body/currentPassword is not your current password');
    }
    const passwordHash = await hashNewPassword(app, newPassword);
    await changePassword(pool, user.id, passwordHash, bearerToken(request) ?? sessionCookieToken(request));
    return reply.code(204).send();
  });

  const revokeSchema = {
    tags,
    summary: 'Sign out everywhere',
    description: 'Revokes every session of the account, this one included; from the pages it also clears the cookie.',
    response: { 204: noContent },
  };
  app.post('/api/me/sessions/revoke-all', { onRequest: app.authenticate, preValidation: noBody, schema: revokeSchema }, async (request, reply) => {
    await revokeAllSessions(pool, userOf(request).id);
    if (!bearerToken(request)) clearSessionCookie(reply, secureCookies(config.PUBLIC_BASE_URL));
    return reply.code(204).send();
  });
};
