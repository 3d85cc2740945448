/**
 * The emailed links and asking for them: verify an address, resend the verification link,
 * ask for a password reset, set a new password by its link. Asking answers 202 with the
 * same body whatever the address, at once: the lookup and the email happen after the
 * answer (accounts/account-mail.ts), so neither the body nor the time tells who has an
 * account. Links carry their token in the URL's fragment; the pages post it here.
 */
import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Spent } from '../../accounts/account-tokens.js';
import { peekToken } from '../../accounts/account-tokens.js';
import { resetPassword, verifyEmail } from '../../accounts/recovery.js';
import { HttpError } from '../errors.js';
import { accountEmailLimits, byClient } from '../rate-limit.js';
import { noContent, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { Email, strictObject } from '../schemas.js';
import { clearSessionCookie, secureCookies, sessionCookieToken } from '../session.js';
import { CheckInbox, checkNewPassword, hashNewPassword, LinkToken, NewPassword } from './account-fields.js';

const TokenBody = strictObject({ token: LinkToken });
const EmailBody = strictObject({ email: Email });
const ResetBody = strictObject({ token: LinkToken, newPassword: NewPassword });

/** The refusal for a link that cannot be used, in words that say what to do. */
function refuseLink(spent: Exclude<Spent, { ok: true }>, askAgain: string): never {
  switch (spent.reason) {
    case 'expired':
      throw new HttpError('LINK_EXPIRED', `this link has expired; ${askAgain}`);
    case 'used':
      throw new HttpError('LINK_USED', `this link has already been used; ${askAgain}`);
    default:
      throw new HttpError('LINK_INVALID', `this link is not one we sent, or only part of it was copied; open it from the email again, or ${askAgain}`);
  }
}

export const accountLinkRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, pool } = app.deps;
  const tags = tag('Accounts');
  const mailLimits = app.rateLimit(accountEmailLimits(config), { failClosed: 'sending account email' });
  // tokens are 256 random bits, so guessing is hopeless; the limit keeps junk from costing hashes
  const linkLimit = app.rateLimit('account-link-ip', config.LOGIN_LIMIT_PER_MINUTE_IP, byClient);
  const checkInbox = { message: 'Check your inbox: if this address has an account, we have sent it an email.' };

  const verifySchema = {
    tags,
    summary: 'Verify an address with the token of its emailed link',
    description: 'The token is what follows `#token=` in the link. From then on the account\'s watches send alerts.',
    body: TokenBody,
    response: replies({ 204: noContent }, 'LINK_INVALID', 'LINK_EXPIRED', 'LINK_USED'),
  };
  app.post('/api/auth/verify', { schema: verifySchema, preHandler: linkLimit }, async (request, reply) => {
    const spent = await verifyEmail(pool, request.body.token);
    if (!spent.ok) refuseLink(spent, 'sign in to ask for a new one');
    return reply.code(204).send();
  });

  // asking for a link: the same answer for any address, the lookup and the email after it
  const asking = [
    {
      url: '/api/auth/verify/resend',
      summary: 'Mail a new verification link',
      description: 'Answers 202 with the same body whether or not the address has an account, or is verified already; only an unverified account is mailed.',
      mail: (email: string) => app.accountMail.resendVerification(email),
    },
    {
      url: '/api/auth/password-reset',
      summary: 'Mail a password reset link',
      description: 'Answers 202 with the same body whether or not the address has an account. The link works once, for 30 minutes.',
      mail: (email: string) => app.accountMail.requestReset(email),
    },
  ];
  for (const { url, summary, description, mail } of asking) {
    const askSchema = { tags, summary, description, body: EmailBody, response: replies({ 202: CheckInbox }) };
    app.post(url, { schema: askSchema, preHandler: mailLimits }, async (request, reply) => {
      mail(request.body.email);
      return reply.code(202).send(checkInbox);
    });
  }

  const resetSchema = {
    tags,
    summary: 'Set a new password with the token of a reset link',
    description: 'Signs out every session of the account (sign in again with the new password) and counts the address as verified.',
    body: ResetBody,
    response: replies({ 204: noContent }, 'LINK_INVALID', 'LINK_EXPIRED', 'LINK_USED', 'WEAK_PASSWORD', 'SERVER_BUSY'),
  };
  app.post('/api/auth/password-reset/confirm', { schema: resetSchema, preHandler: linkLimit }, async (request, reply) => {
    const { token, newPassword } = request.body;
    const askAgain = 'ask for a new reset link';
    // a dead link is refused before the costly hash; spending it below checks again
    const peeked = await peekToken(pool, token, 'reset');
    if (!peeked.ok) refuseLink(peeked, askAgain);
    await checkNewPassword(newPassword, 'newPassword');
    const spent = await resetPassword(pool, token, await hashNewPassword(app, newPassword));
    if (!spent.ok) refuseLink(spent, askAgain);
    // every session is revoked: a cookie this browser holds is dead too
    if (sessionCookieToken(request)) clearSessionCookie(reply, secureCookies(config.PUBLIC_BASE_URL));
    return reply.code(204).send();
  });
};
