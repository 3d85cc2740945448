/**
 * Web push subscriptions: GET /api/push/vapid-public-key (for the browser's
 * pushManager.subscribe), POST /api/me/push-subscriptions (the browser's
 * PushSubscription.toJSON()), DELETE /api/me/push-subscriptions/:id, and
 * DELETE /api/me/push-subscriptions with { endpoint } (what a browser knows after
 * unsubscribing locally).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { deleteSubscription, MAX_SUBSCRIPTIONS_PER_USER, saveSubscription } from '../../watches/push-subscriptions.js';
import { endpointAddressProblem, endpointPolicy, endpointProblem, subscriptionKeysProblem, systemLookup } from '../../watches/push-endpoints.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { byClient } from '../rate-limit.js';
import { noContent, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { IdParams, strictObject, Uuid } from '../schemas.js';

const Base64Url = (max: number) => Type.String({ pattern: '^[A-Za-z0-9_-]+={0,2}$', minLength: 8, maxLength: max });

const SubscriptionBody = strictObject({
  endpoint: Type.String({ minLength: 10, maxLength: 2048 }),
  keys: strictObject({ p256dh: Base64Url(200), auth: Base64Url(64) }),
  // browsers include it in toJSON(); we keep nothing of it (push services report expiry with 404/410)
  expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Number()])),
});
const EndpointBody = strictObject({ endpoint: Type.String({ minLength: 10, maxLength: 2048 }) });
const SubscriptionReply = strictObject({ subscription: strictObject({ id: Uuid }) });

const tags = tag('Push');
const keySchema = {
  tags,
  summary: "The server's VAPID public key, for the browser's pushManager.subscribe()",
  response: replies({ 200: strictObject({ publicKey: Type.String() }) }, 'PUSH_NOT_CONFIGURED'),
};
const subscribeSchema = {
  tags,
  summary: "Save this browser's push subscription (its PushSubscription.toJSON())",
  description:
    'The endpoint must be an https URL on port 443 with no user name or password, whose host resolves only to public addresses ' +
    `(and, when the server sets PUSH_ENDPOINT_HOSTS, is one of those push services). A user keeps at most ${MAX_SUBSCRIPTIONS_PER_USER} subscriptions: ` +
    'saving another removes the surplus, switched-off ones first, then the oldest.',
  body: SubscriptionBody,
  response: replies(
    { 201: { ...SubscriptionReply, description: 'Saved' }, 200: { ...SubscriptionReply, description: 'Already saved: updated, now yours' } },
    'INVALID_SUBSCRIPTION',
  ),
};
const deleteByIdSchema = { tags, summary: 'Remove one of your push subscriptions', params: IdParams, response: replies({ 204: noContent }, 'NOT_FOUND') };
const deleteByEndpointSchema = {
  tags,
  summary: 'Remove a push subscription by its endpoint (what a browser knows after unsubscribing)',
  body: EndpointBody,
  response: replies({ 204: noContent }, 'NOT_FOUND'),
};

export const pushRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, pool } = app.deps;
  const policy = endpointPolicy(config);
  const lookupHost = app.deps.lookupHost ?? systemLookup;
  // a browser subscribes once per profile; more than a few a minute is a script
  const subscribeLimit = app.rateLimit([
    { name: 'push-subscribe-user', max: config.PUSH_SUBSCRIBE_LIMIT_PER_MINUTE, key: (r) => userOf(r).id },
    { name: 'push-subscribe-ip', max: config.PUSH_SUBSCRIBE_LIMIT_PER_MINUTE_IP, key: byClient },
  ]);

  app.get('/api/push/vapid-public-key', { schema: keySchema }, async () => {
    if (!config.VAPID_PUBLIC_KEY) throw new HttpError('PUSH_NOT_CONFIGURED', 'web push is not set up on this server; choose email alerts');
    return { publicKey: config.VAPID_PUBLIC_KEY };
  });

  app.post('/api/me/push-subscriptions', { onRequest: app.authenticate, preHandler: subscribeLimit, schema: subscribeSchema }, async (request, reply) => {
    const { endpoint, keys } = request.body;
    // the URL's own rules and the keys first: a host is looked up only for an otherwise good subscription
    const problem = endpointProblem(endpoint, policy) ?? subscriptionKeysProblem(keys.p256dh, keys.auth) ?? (await endpointAddressProblem(endpoint, policy, lookupHost));
    if (problem) throw new HttpError('INVALID_SUBSCRIPTION', problem);
    const userAgent = request.headers['user-agent']?.slice(0, 500) ?? null;
    const saved = await saveSubscription(pool, userOf(request).id, { endpoint, p256dh: keys.p256dh, auth: keys.auth, userAgent });
    return reply.code(saved.created ? 201 : 200).send({ subscription: { id: saved.id } });
  });

  app.delete('/api/me/push-subscriptions/:id', { onRequest: app.authenticate, schema: deleteByIdSchema }, async (request, reply) => {
    const deleted = await deleteSubscription(pool, userOf(request).id, { id: request.params.id });
    if (!deleted) throw new HttpError('NOT_FOUND', 'no such push subscription');
    return reply.code(204).send();
  });

  app.delete('/api/me/push-subscriptions', { onRequest: app.authenticate, schema: deleteByEndpointSchema }, async (request, reply) => {
    const deleted = await deleteSubscription(pool, userOf(request).id, { endpoint: request.body.endpoint });
    if (!deleted) throw new HttpError('NOT_FOUND', 'no such push subscription');
    return reply.code(204).send();
  });
};
