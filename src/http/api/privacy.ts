/**
 * A learner's control of their data: GET /api/me/export (everything held about them, as a
 * JSON file) and DELETE /api/me (the account erased, with its password asked for again).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eraseAccount } from '../../privacy/erase.js';
import { exportAccount } from '../../privacy/export.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { byClient } from '../rate-limit.js';
import { noContent, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { bearerToken, clearSessionCookie, secureCookies } from '../session.js';
import { AccountExport, EraseBody } from './privacy-schemas.js';

const tags = tag('Your data');

/** Exports per learner a minute: each reads everything they have, and a person needs one. */
export const EXPORT_LIMIT_PER_MINUTE = 3;

export const privacyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, config } = app.deps;

  const exportSchema = {
    tags,
    summary: 'Everything held about you, as a JSON file',
    description:
      'Your account (names, role, quiet hours), watches, push subscriptions, alerts, appointments with their history, ' +
      'sessions and the audit entries by or about you. Sent as an attachment (`Content-Disposition`). ' +
      `At most ${EXPORT_LIMIT_PER_MINUTE} a minute.`,
    response: replies({ 200: AccountExport }),
  };
  // counted per account and per client: one learner's repeated downloads would each read all they have
  const exportLimits = app.rateLimit([
    { name: 'export-user', max: EXPORT_LIMIT_PER_MINUTE, key: (r) => userOf(r).id },
    { name: 'export-ip', max: EXPORT_LIMIT_PER_MINUTE * 10, key: byClient },
  ]);
  app.get('/api/me/export', { onRequest: app.authenticate, preHandler: exportLimits, schema: exportSchema }, async (request, reply) => {
    const data = await exportAccount(pool, userOf(request).id);
    if (!data) throw new HttpError('UNAUTHENTICATED', 'the account no longer exists');
    const day = data.exportedAt.slice(0, 10);
    return reply
      .header('content-disposition', `attachment; filename="slotwatch-data-${day}.json"`)
      .header('cache-control', 'no-store')
      .send(data);
  });

  // a password attempt, counted as sign-ins are: per account, and per IP with every sign-in form
  const passwordLimits = app.rateLimit([
    { name: 'login-ip', max: config.LOGIN_LIMIT_PER_MINUTE_IP, key: byClient },
    { name: 'password-user', max: config.LOGIN_LIMIT_PER_MINUTE, key: (r) => userOf(r).id },
  ], { failClosed: 'deleting the account' });
  const eraseSchema = {
    tags,
    summary: 'Delete your account (learners)',
    description:
      'Asks for the password again. In one transaction: your holds and future bookings are cancelled (their slots are released to ' +
      'other learners); your watches, alerts, push subscriptions and sessions are deleted; past appointments are kept for the test ' +
      'centre without anything that identifies you; audit entries stop naming you; the account is deleted. Every sign-in ends.',
    body: EraseBody,
    response: replies({ 204: noContent }, 'WRONG_PASSWORD'),
  };
  app.delete('/api/me', { onRequest: app.requireRole('CLIENT'), preHandler: passwordLimits, schema: eraseSchema }, async (request, reply) => {
    const result = await eraseAccount(pool, userOf(request).id, request.body.password);
    if (!result.erased) throw new HttpError('WRONG_PASSWORD', 'that is not your password; nothing was deleted');
    request.log.info({ cancelled: result.cancelledAppointments, kept: result.keptAppointments }, 'account erased');
    if (!bearerToken(request)) clearSessionCookie(reply, secureCookies(config.PUBLIC_BASE_URL));
    return reply.code(204).send();
  });
};
