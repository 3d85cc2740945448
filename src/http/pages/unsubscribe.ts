/**
 * One-click unsubscribe (RFC 8058) behind the List-Unsubscribe header of alert emails.
 * GET /unsubscribe/:token only shows a page with a button (mail scanners fetch links, so
 * a GET must change nothing); POST /unsubscribe/:token, sent by the mail client with
 * `List-Unsubscribe=One-Click` or by the button, switches that watch off. No login: the
 * random token is the proof. Pages, not JSON, because people land here from their inbox.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findWatchByToken, unsubscribeByToken, type UnsubscribeTarget } from '../../watches/unsubscribe.js';
import { escapeHtml, page as shell } from '../html.js';
import { htmlPage } from '../replies.js';
import { tag } from '../route-docs.js';
import { strictObject } from '../schemas.js';

const Params = strictObject({ token: Type.String({ maxLength: 200, description: 'The secret token from the alert email\'s unsubscribe link' }) });
const notFound = htmlPage('The link is not recognised');
const showSchema = {
  tags: tag('Pages'),
  summary: 'The unsubscribe page behind an alert email\'s link: a button, nothing changed yet',
  params: Params,
  response: { 200: htmlPage('What the link switches off, and a button'), 404: notFound },
};
const unsubscribeSchema = {
  tags: tag('Pages'),
  summary: 'One-click unsubscribe (RFC 8058): switches that watch off',
  description: 'Any body is accepted and ignored (mail clients post `List-Unsubscribe=One-Click`); the token is the proof.',
  params: Params,
  response: { 200: htmlPage('Unsubscribed'), 404: notFound },
};

// reached by a secret link: kept out of search engines
function page(title: string, body: string): string {
  return shell({ title, noindex: true, body: `<h1>${escapeHtml(title)}</h1>\n${body}` });
}

function describe(w: UnsubscribeTarget): string {
  const where = w.postcode ? ` around ${w.postcode}` : '';
  return escapeHtml(`${w.label ? `"${w.label}": ` : ''}slots within ${w.radiusMiles} miles${where}`);
}

const NOT_FOUND = page('Link not recognised', '<p>This unsubscribe link is not valid. It may have been mistyped.</p>');

export const unsubscribeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  // RFC 8058 clients post a form (urlencoded or multipart); the token in the path is all we
  // need, so any body is read as text and ignored (this parser stays inside this plugin)
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.get('/unsubscribe/:token', { schema: showSchema }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const watch = await findWatchByToken(pool, request.params.token);
    if (!watch) return reply.code(404).send(NOT_FOUND);
    if (!watch.isActive) return page('Already unsubscribed', `<p>You no longer get alerts for ${describe(watch)}.</p>`);
    return page(
      'Stop these alerts?',
      `<p>You get alerts for ${describe(watch)}. Your other searches are not affected.</p>
<form method="post" action="/unsubscribe/${escapeHtml(request.params.token)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>`,
    );
  });

  app.post('/unsubscribe/:token', { schema: unsubscribeSchema }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const watch = await unsubscribeByToken(pool, request.params.token);
    if (!watch) return reply.code(404).send(NOT_FOUND);
    request.log.info({ watchId: watch.watchId }, 'watch unsubscribed by one-click link');
    return page('Unsubscribed', `<p>You will no longer get alerts for ${describe(watch)}.</p>`);
  });
};
