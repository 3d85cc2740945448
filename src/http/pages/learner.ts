/**
 * The learner pages (HTML) and their assets. Registered in a scope of their own so helmet's
 * headers and content security policy cover these pages only, not the JSON API or the
 * queue board. Pages that need an account send a signed-out visitor to /signin?next=...
 */
import { join } from 'node:path';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { revokeSession } from '../../accounts/sessions.js';
import { freeAlertedSlots, listUserAlerts } from '../../alerts/list.js';
import { findAccount, getAccount } from '../../accounts/users.js';
import { projectRoot } from '../../paths.js';
import { slotPage } from '../../slots/slot-page.js';
import { content, htmlPage, redirect } from '../replies.js';
import { tag, type Security } from '../route-docs.js';
import { clearSessionCookie, csrfMatches, pageSession, safeNext, secureCookies } from '../session.js';
import { accountPageRoutes } from './account-pages.js';
import { alertsBody, appointmentsBody, noSlotBody, signInBody, signUpBody, slotBody, watchesBody } from './bodies.js';
import { send } from './learner-shell.js';
import { accountBody, accountDeletedBody } from './account.js';

/** Hand-written browser modules and CSS, served as they are (no build step, no CDN). */
export const ASSETS_DIR = join(projectRoot, 'src', 'http', 'assets');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// a page works signed out too, unless it needs the cookie's account (then it redirects to sign in)
const anyone: Security = [{}, { learnerCookie: [] }];
const account: Security = [{ learnerCookie: [] }];
const tags = tag('Pages');
const toSignIn = redirect('Not signed in: to /signin?next=<this page>');
const schemas = {
  home: { tags, summary: 'To your watches, or to sign in', security: anyone, response: { 303: redirect('To /watches, or /signin') } },
  signin: { tags, summary: 'The sign-in page', security: anyone, response: { 200: htmlPage('The form'), 303: redirect('Signed in already: to `next`') } },
  signup: { tags, summary: 'The sign-up page', security: anyone, response: { 200: htmlPage('The form'), 303: redirect('Signed in already: to `next`') } },
  signout: {
    tags,
    summary: 'Sign out: a plain form post carrying the page\'s CSRF token as `_csrf`',
    consumes: ['application/x-www-form-urlencoded'],
    security: anyone,
    response: { 303: redirect('To /signin'), 403: htmlPage('The form did not come from a slotwatch page: still signed in') },
  },
  watches: { tags, summary: 'My watches', security: account, response: { 200: htmlPage('The page'), 303: toSignIn } },
  appointments: { tags, summary: 'My appointments', security: account, response: { 200: htmlPage('The page'), 303: toSignIn } },
  alerts: {
    tags,
    summary: 'Recent alerts: free slots near my watches, and every alert with what became of it (`?before=<id>` for older ones)',
    security: account,
    response: { 200: htmlPage('The page'), 303: toSignIn },
  },
  account: { tags, summary: 'My account: change password, sign out everywhere, download your data, delete the account', security: account, response: { 200: htmlPage('The page'), 303: toSignIn } },
  accountDeleted: { tags, summary: 'Where a deleted account lands', security: anyone, response: { 200: htmlPage('The page') } },
  slot: {
    tags,
    summary: 'The slot behind an alert link, with a button to hold it',
    security: anyone,
    response: { 200: htmlPage('The slot'), 404: htmlPage('No slot with this id') },
  },
  sw: { tags, summary: 'The service worker that shows push alerts', response: { 200: content('The script', 'application/javascript') } },
};

const nextOf = (request: FastifyRequest) => safeNext((request.query as Record<string, unknown> | undefined)?.next);

export const learnerPageRoutes: FastifyPluginAsync = async (app) => {
  const { pool, config } = app.deps;
  const secure = secureCookies(config.PUBLIC_BASE_URL);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'"],
        manifestSrc: ["'self'"],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        // over plain http (a developer's machine) upgrading would break every asset
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: secure ? { maxAge: 31_536_000 } : false,
    frameguard: { action: 'deny' },
  });
  await app.register(formbody);
  await app.register(fastifyStatic, { root: ASSETS_DIR, prefix: '/assets/', cacheControl: true, maxAge: 0, serve: true });

  const signedInOrRedirect = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await pageSession(pool, request);
    if (!session) {
      reply.redirect(`/signin?next=${encodeURIComponent(request.url)}`, 303);
      return null;
    }
    return session;
  };

  app.get('/', { schema: schemas.home }, async (request, reply) => {
    const session = await pageSession(pool, request);
    return reply.redirect(session ? '/watches' : '/signin', 303);
  });

  app.get('/signin', { schema: schemas.signin }, async (request, reply) => {
    const session = await pageSession(pool, request);
    if (session) return reply.redirect(nextOf(request), 303);
    return send(reply, 200, { title: 'Sign in', script: 'signin.js', current: 'signin', body: signInBody(nextOf(request)) }, null);
  });

  app.get('/signup', { schema: schemas.signup }, async (request, reply) => {
    const session = await pageSession(pool, request);
    if (session) return reply.redirect(nextOf(request), 303);
    return send(reply, 200, { title: 'Create an account', script: 'signup.js', current: 'signup', body: signUpBody(nextOf(request)) }, null);
  });

  // a plain form post, so signing out works even when the page's scripts do not
  app.post('/signout', { schema: schemas.signout }, async (request, reply) => {
    const session = await pageSession(pool, request);
    if (session) {
      const given = (request.body as Record<string, unknown> | undefined)?._csrf;
      if (!csrfMatches(session.token, given)) {
        return send(reply, 403, { title: 'Not signed out', body: '<h1>Not signed out</h1><p role="alert">This sign-out did not come from a slotwatch page. <a href="/watches">Go back</a> and try again.</p>' }, session);
      }
      await revokeSession(pool, session.token);
    }
    clearSessionCookie(reply, secure);
    return reply.redirect('/signin', 303);
  });

  app.get('/watches', { schema: schemas.watches }, async (request, reply) => {
    const session = await signedInOrRedirect(request, reply);
    if (!session) return reply;
    const account = await findAccount(pool, session.user.id);
    return send(reply, 200, { title: 'My watches', script: 'watches.js', current: 'watches', body: watchesBody(account?.verified === false) }, session);
  });

  app.get('/appointments', { schema: schemas.appointments }, async (request, reply) => {
    const session = await signedInOrRedirect(request, reply);
    if (!session) return reply;
    return send(reply, 200, { title: 'My appointments', script: 'appointments.js', current: 'appointments', body: appointmentsBody() }, session);
  });

  // linked from every alert message
  app.get('/alerts', { schema: schemas.alerts }, async (request, reply) => {
    const session = await signedInOrRedirect(request, reply);
    if (!session) return reply;
    const before = (request.query as Record<string, unknown> | undefined)?.before;
    const older = typeof before === 'string' && UUID.test(before) ? before : undefined;
    const [free, page] = await Promise.all([freeAlertedSlots(pool, session.user.id), listUserAlerts(pool, session.user.id, { before: older, limit: 50 })]);
    const body = alertsBody({ free, alerts: page.items, nextBefore: page.nextBefore, older: older !== undefined });
    return send(reply, 200, { title: 'Recent alerts', current: 'alerts', body }, session);
  });

  app.get('/account', { schema: schemas.account }, async (request, reply) => {
    const session = await signedInOrRedirect(request, reply);
    if (!session) return reply;
    const details = await getAccount(pool, session.user.id);
    if (!details) return reply.redirect(`/signin?next=${encodeURIComponent(request.url)}`, 303);
    return send(reply, 200, { title: 'My account', script: 'account.js', current: 'account', body: accountBody(details) }, session);
  });

  app.get('/account/deleted', { schema: schemas.accountDeleted }, async (request, reply) => {
    const session = await pageSession(pool, request);
    return send(reply, 200, { title: 'Account deleted', body: accountDeletedBody() }, session);
  });

  // the page behind every alert link: readable signed out, so the learner sees what it is first
  app.get<{ Params: { id: string } }>('/slots/:id', { schema: schemas.slot }, async (request, reply) => {
    const session = await pageSession(pool, request);
    const slot = UUID.test(request.params.id) ? await slotPage(pool, request.params.id, session?.user.id ?? null) : null;
    if (!slot) return send(reply, 404, { title: 'Slot not found', body: noSlotBody() }, session);
    return send(reply, 200, { title: 'Test slot', script: 'slot.js', body: slotBody(slot, session !== null) }, session);
  });

  // sign-up's end, the emailed links' pages and the forgotten-password form, under this scope's policy
  await app.register(accountPageRoutes);

  // the service worker lives at the root so its scope covers every page (and /slots/...)
  app.get('/sw.js', { schema: schemas.sw }, async (_request, reply) => reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').sendFile('sw.js'));
};
