/**
 * A learner's watches (issue 4): GET/POST /api/me/preferences, PUT/DELETE
 * /api/me/preferences/:id. A watch is a point (latitude/longitude, or a postcode placed
 * offline), a radius in miles, how to be told, the test types and an optional date window.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { withTransaction } from '../../db/transaction.js';
import { locatePostcode, normalisePostcode } from '../../watches/postcodes.js';
import { createWatch, deleteWatch, listWatches, MAX_WATCHES_PER_USER, replaceWatch, type WatchInput } from '../../watches/watches.js';
import type { Queryable } from '../../db/types.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { IdParams, strictObject } from '../schemas.js';

const WatchBody = strictObject({
  location: Type.Optional(
    strictObject({
      latitude: Type.Number({ minimum: -90, maximum: 90 }),
      longitude: Type.Number({ minimum: -180, maximum: 180 }),
    }),
  ),
  postcode: Type.Optional(Type.String({ minLength: 2, maxLength: 10 })),
  radiusMiles: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
  method: Type.Union([Type.Literal('email'), Type.Literal('push')]),
  testTypes: Type.Array(Type.Union([Type.Literal('practical'), Type.Literal('theory')]), { minItems: 1, maxItems: 2, uniqueItems: true }),
  earliestDate: Type.Optional(Type.Union([Type.Null(), Type.String({ format: 'date' })])),
  latestDate: Type.Optional(Type.Union([Type.Null(), Type.String({ format: 'date' })])),
  label: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 100 })])),
  isActive: Type.Optional(Type.Boolean()),
});
type WatchBodyT = Static<typeof WatchBody>;

/** Checks what the schema cannot say and places a postcode; throws a 400 for the caller's mistakes. */
async function toInput(db: Queryable, b: WatchBodyT): Promise<WatchInput> {
  if (Boolean(b.location) === Boolean(b.postcode)) {
    throw new HttpError(400, 'VALIDATION_ERROR', 'give either location {latitude, longitude} or postcode, not both');
  }
  if (b.earliestDate && b.latestDate && b.earliestDate > b.latestDate) {
    throw new HttpError(400, 'VALIDATION_ERROR', 'earliestDate must not be after latestDate');
  }
  if (b.radiusMiles < 0.01) throw new HttpError(400, 'VALIDATION_ERROR', 'radiusMiles must be at least 0.01');
  let point = b.location;
  let postcode: string | null = null;
  if (b.postcode) {
    postcode = normalisePostcode(b.postcode);
    if (!postcode) throw new HttpError(400, 'INVALID_POSTCODE', `"${b.postcode}" is not a UK postcode`);
    point = (await locatePostcode(db, postcode)) ?? undefined;
    if (!point) {
      throw new HttpError(
        400,
        'UNKNOWN_POSTCODE',
        `postcode ${postcode} is not one we can place (only test centre postcodes are known offline); give location {latitude, longitude} instead`,
      );
    }
  }
  return {
    latitude: point!.latitude,
    longitude: point!.longitude,
    postcode,
    radiusMiles: b.radiusMiles,
    method: b.method,
    testTypes: b.testTypes,
    earliestDate: b.earliestDate ?? null,
    latestDate: b.latestDate ?? null,
    label: b.label?.trim() || null,
    isActive: b.isActive ?? true,
  };
}

export const preferenceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;

  app.get('/api/me/preferences', { onRequest: app.authenticate }, async (request) => ({
    preferences: await listWatches(pool, userOf(request).id),
  }));

  app.post('/api/me/preferences', { onRequest: app.authenticate, schema: { body: WatchBody } }, async (request, reply) => {
    const input = await toInput(pool, request.body);
    const watch = await withTransaction(pool, (tx) => createWatch(tx, userOf(request).id, input));
    if (!watch) throw new HttpError(409, 'TOO_MANY_WATCHES', `a user may keep at most ${MAX_WATCHES_PER_USER} watches; delete one first`);
    return reply.code(201).send({ preference: watch });
  });

  app.put('/api/me/preferences/:id', { onRequest: app.authenticate, schema: { params: IdParams, body: WatchBody } }, async (request) => {
    const input = await toInput(pool, request.body);
    const watch = await replaceWatch(pool, userOf(request).id, request.params.id, input);
    if (!watch) throw new HttpError(404, 'NOT_FOUND', 'no such watch');
    return { preference: watch };
  });

  app.delete('/api/me/preferences/:id', { onRequest: app.authenticate, schema: { params: IdParams } }, async (request, reply) => {
    if (!(await deleteWatch(pool, userOf(request).id, request.params.id))) throw new HttpError(404, 'NOT_FOUND', 'no such watch');
    return reply.code(204).send();
  });
};
