/**
 * A learner's watches: GET/POST /api/me/watches, PUT/DELETE /api/me/watches/:id, and GET
 * /api/me/watches/coverage (each with the centres it covers and their free slots). A watch
 * is a point (latitude/longitude, or a postcode placed offline), a radius in miles, how to
 * be told, the test types and an optional date window.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { withTransaction } from '../../db/transaction.js';
import { locatePostcode, normalisePostcode } from '../../watches/postcodes.js';
import { watchCoverage, type WatchCoverage } from '../../watches/coverage.js';
import { createWatch, deleteWatch, listWatches, MAX_WATCHES_PER_USER, replaceWatch, type WatchInput } from '../../watches/watches.js';
import type { Queryable } from '../../db/types.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { IdParams, NotificationMethod, strictObject, TestType } from '../schemas.js';

const WatchBody = strictObject({
  location: Type.Optional(
    strictObject({
      latitude: Type.Number({ minimum: -90, maximum: 90 }),
      longitude: Type.Number({ minimum: -180, maximum: 180 }),
    }),
  ),
  postcode: Type.Optional(Type.String({ minLength: 2, maxLength: 10 })),
  radiusMiles: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
  method: NotificationMethod,
  testTypes: Type.Array(TestType, { minItems: 1, maxItems: 2, uniqueItems: true }),
  earliestDate: Type.Optional(Type.Union([Type.Null(), Type.String({ format: 'date' })])),
  latestDate: Type.Optional(Type.Union([Type.Null(), Type.String({ format: 'date' })])),
  label: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 100 })])),
  isActive: Type.Optional(Type.Boolean()),
});
type WatchBodyT = Static<typeof WatchBody>;

/** Checks what the schema cannot say and places a postcode; throws a 400 for the caller's mistakes. */
async function toInput(db: Queryable, b: WatchBodyT): Promise<WatchInput> {
  if (Boolean(b.location) === Boolean(b.postcode)) {
    throw new HttpError('VALIDATION_ERROR', 'give either location {latitude, longitude} or postcode, not both');
  }
  if (b.earliestDate && b.latestDate && b.earliestDate > b.latestDate) {
    throw new HttpError('VALIDATION_ERROR', 'earliestDate must not be after latestDate');
  }
  if (b.radiusMiles < 0.01) throw new HttpError('VALIDATION_ERROR', 'radiusMiles must be at least 0.01');
  let point = b.location;
  let postcode: string | null = null;
  if (b.postcode) {
    postcode = normalisePostcode(b.postcode);
    if (!postcode) throw new HttpError('INVALID_POSTCODE', `"${b.postcode}" is not a UK postcode`);
    point = (await locatePostcode(db, postcode)) ?? undefined;
    if (!point) {
      throw new HttpError(
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

/** Registers the watch routes under `base`, answering with `one` and `many` as the bodies' keys. */
function registerWatchRoutes(app: Parameters<FastifyPluginAsyncTypebox>[0], base: string, one: string, many: string): void {
  const { pool } = app.deps;

  app.get(base, { onRequest: app.authenticate }, async (request) => ({ [many]: await listWatches(pool, userOf(request).id) }));

  app.post(base, { onRequest: app.authenticate, schema: { body: WatchBody } }, async (request, reply) => {
    const input = await toInput(pool, request.body);
    const watch = await withTransaction(pool, (tx) => createWatch(tx, userOf(request).id, input));
    if (!watch) throw new HttpError('TOO_MANY_WATCHES', `a user may keep at most ${MAX_WATCHES_PER_USER} watches; delete one first`);
    return reply.code(201).send({ [one]: watch });
  });

  app.put(`${base}/:id`, { onRequest: app.authenticate, schema: { params: IdParams, body: WatchBody } }, async (request) => {
    const input = await toInput(pool, request.body);
    const watch = await replaceWatch(pool, userOf(request).id, request.params.id, input);
    if (!watch) throw new HttpError('NOT_FOUND', 'no such watch');
    return { [one]: watch };
  });

  app.delete(`${base}/:id`, { onRequest: app.authenticate, schema: { params: IdParams } }, async (request, reply) => {
    if (!(await deleteWatch(pool, userOf(request).id, request.params.id))) throw new HttpError('NOT_FOUND', 'no such watch');
    return reply.code(204).send();
  });
}

/** A watch with its coverage as GET /api/web/watches answered it (flat location, British keys). */
function legacyCoverage(w: WatchCoverage) {
  return {
    id: w.id,
    label: w.label,
    postcode: w.postcode,
    latitude: w.location.latitude,
    longitude: w.location.longitude,
    radiusMiles: w.radiusMiles,
    method: w.method,
    testTypes: w.testTypes,
    earliestDate: w.earliestDate,
    latestDate: w.latestDate,
    isActive: w.isActive,
    centreCount: w.centerCount,
    freeSlots: w.freeSlots,
    centres: w.centers,
  };
}

export const watchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  registerWatchRoutes(app, '/api/me/watches', 'watch', 'watches');
  // the paths and keys the API first had, kept for clients written against them
  registerWatchRoutes(app, '/api/me/preferences', 'preference', 'preferences');

  app.get('/api/me/watches/coverage', { onRequest: app.authenticate }, async (request) => ({
    watches: await watchCoverage(pool, userOf(request).id),
  }));
  app.get('/api/web/watches', { onRequest: app.authenticate }, async (request) => ({
    watches: (await watchCoverage(pool, userOf(request).id)).map(legacyCoverage),
  }));
};
