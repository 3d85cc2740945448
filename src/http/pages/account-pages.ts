/**
 * The pages for the emailed links (verify an address, choose a new password) and for
 * asking for a reset link. They are registered inside the learner pages' scope, under its
 * content security policy, and read the same whether signed in or not.
 */
import type { FastifyPluginAsync } from 'fastify';
import { htmlPage } from '../replies.js';
import { tag, type Security } from '../route-docs.js';
import { pageSession } from '../session.js';
import { forgotPasswordBody, resetPasswordBody, verifyBody } from './account-bodies.js';
import { send } from './learner-shell.js';

const anyone: Security = [{}, { learnerCookie: [] }];
const tags = tag('Pages');
const schemas = {
  verify: { tags, summary: 'The page behind a verification link (`/verify#token=...`): a button confirms, or ask for a new link', security: anyone, response: { 200: htmlPage('The page') } },
  forgot: { tags, summary: 'Ask for a password reset link', security: anyone, response: { 200: htmlPage('The form') } },
  reset: { tags, summary: 'The page behind a reset link (`/reset-password#token=...`): choose a new password', security: anyone, response: { 200: htmlPage('The form') } },
};

export const accountPageRoutes: FastifyPluginAsync = async (app) => {
  const { pool } = app.deps;

  app.get('/verify', { schema: schemas.verify }, async (request, reply) => {
    const session = await pageSession(pool, request);
    return send(reply, 200, { title: 'Confirm your email address', script: 'verify.js', body: verifyBody(session?.user.email), noindex: true }, session);
  });

  app.get('/forgot-password', { schema: schemas.forgot }, async (request, reply) =>
    send(reply, 200, { title: 'Forgotten password', script: 'forgot-password.js', body: forgotPasswordBody() }, await pageSession(pool, request)),
  );

  app.get('/reset-password', { schema: schemas.reset }, async (request, reply) =>
    send(reply, 200, { title: 'Choose a new password', script: 'reset-password.js', body: resetPasswordBody(), noindex: true }, await pageSession(pool, request)),
  );
};
