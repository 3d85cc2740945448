/**
 * A learner's watches: GET/POST /api/me/watches, PUT/DELETE /api/me/watches/:id, and GET
 * /api/me/watches/coverage (each with the centres it covers and their free slots). A watch
 * is a point (latitude/longitude, or a postcode placed offline, with the precision it got), a radius in miles, how to
 * be told, the test types and an optional date window.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { withTransaction } from '../../db/transaction.js';
import { watchCoverage, type WatchCoverage as Coverage } from '../../watches/coverage.js';
import { createWatch, deleteWatch, listWatches, MAX_WATCHES_PER_USER, replaceWatch, type WatchInput } from '../../watches/watches.js';
import type { Queryable } from '../../db/types.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { noContent, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { IdParams, strictObject } from '../schemas.js';
import { placePostcode } from './postcodes.js';
import { LegacyWatchCoverage, Watch, WatchBody, WatchCoverage, type WatchBodyT } from './watch-schemas.js';

/** Checks what the schema cannot say and places a postcode; throws a 400 for the caller's mistakes. */
async function toInput(db: Queryable, b: WatchBodyT): Promise<WatchInput> {
  if (Boolean(b.location) === Boolean(b.postcode)) {
    throw new HttpError('VALIDATION_ERROR', 'give either location {latitude, longitude} or postcode, not both');
  }
  if (b.earliestDate && b.latestDate && b.earliestDate > b.latestDate) {
    throw new HttpError('VALIDATION_ERROR', 'earliestDate must not be after latestDate');
  }
  if (b.radiusMiles < 0.01) throw new HttpError('VALIDATION_ERROR', 'radiusMiles must be at least 0.01');
  const placed = b.postcode ? await placePostcode(db, b.postcode) : null;
  const point = placed ?? b.location!;
  return {
    latitude: point.latitude,
    longitude: point.longitude,
    postcode: placed?.postcode ?? null,
    precision: placed?.precision ?? null,
    radiusMiles: b.radiusMiles,
    method: b.method,
    testTypes: b.testTypes,
    earliestDate: b.earliestDate ?? null,
    latestDate: b.latestDate ?? null,
    label: b.label?.trim() || null,
    isActive: b.isActive ?? true,
  };
}

/**
 * Registers the watch routes under `base`, answering with `one` and `many` as the bodies'
 * keys; `deprecated` names the routes an alias stands for.
 */
function registerWatchRoutes(app: Parameters<FastifyPluginAsyncTypebox>[0], base: string, one: string, many: string, deprecated?: string): void {
  const { pool } = app.deps;
  const doc = {
    tags: tag('Watches'),
    ...(deprecated ? { deprecated: true, description: `Kept for existing clients: the same as ${deprecated}, with \`${one}\`/\`${many}\` as the keys.` } : {}),
  };
  const One = strictObject({ [one]: Watch });
  const writes = ['VALIDATION_ERROR', 'INVALID_POSTCODE', 'UNKNOWN_POSTCODE'] as const;

  const listSchema = { ...doc, summary: 'Your watches, newest first', response: replies({ 200: strictObject({ [many]: Type.Array(Watch) }) }) };
  app.get(base, { onRequest: app.authenticate, schema: listSchema }, async (request) => ({ [many]: await listWatches(pool, userOf(request).id) }));

  const createSchema = { ...doc, summary: 'Add a watch (at most 20)', body: WatchBody, response: replies({ 201: One }, ...writes, 'TOO_MANY_WATCHES') };
  app.post(base, { onRequest: app.authenticate, schema: createSchema }, async (request, reply) => {
    const input = await toInput(pool, request.body);
    const watch = await withTransaction(pool, (tx) => createWatch(tx, userOf(request).id, input));
    if (!watch) throw new HttpError('TOO_MANY_WATCHES', `a user may keep at most ${MAX_WATCHES_PER_USER} watches; delete one first`);
    return reply.code(201).send({ [one]: watch });
  });

  const replaceSchema = { ...doc, summary: 'Replace a watch', params: IdParams, body: WatchBody, response: replies({ 200: One }, ...writes, 'NOT_FOUND') };
  app.put(`${base}/:id`, { onRequest: app.authenticate, schema: replaceSchema }, async (request) => {
    const input = await toInput(pool, request.body);
    const watch = await replaceWatch(pool, userOf(request).id, request.params.id, input);
    if (!watch) throw new HttpError('NOT_FOUND', 'no such watch');
    return { [one]: watch };
  });

  const deleteSchema = { ...doc, summary: 'Delete a watch', params: IdParams, response: replies({ 204: noContent }, 'NOT_FOUND') };
  app.delete(`${base}/:id`, { onRequest: app.authenticate, schema: deleteSchema }, async (request, reply) => {
    if (!(await deleteWatch(pool, userOf(request).id, request.params.id))) throw new HttpError('NOT_FOUND', 'no such watch');
    return reply.code(204).send();
  });
}

/** A watch with its coverage as GET /api/web/watches answered it (flat location, British keys). */
function legacyCoverage(w: Coverage) {
  return {
    id: w.id,
    label: w.label,
    postcode: w.postcode,
    precision: w.precision,
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
  const { pool, readPool } = app.deps;
  registerWatchRoutes(app, '/api/me/watches', 'watch', 'watches');
  // the paths and keys the API first had, kept for clients written against them
  registerWatchRoutes(app, '/api/me/preferences', 'preference', 'preferences', '/api/me/watches');

  const coverageSchema = {
    tags: tag('Watches'),
    summary: 'Your watches, oldest first, each with the centres it covers and their free slots',
    response: replies({ 200: strictObject({ watches: Type.Array(WatchCoverage) }) }),
  };
  app.get('/api/me/watches/coverage', { onRequest: app.authenticate, schema: coverageSchema }, async (request) => ({
    watches: await watchCoverage(pool, userOf(request).id, readPool),
  }));

  const legacySchema = {
    tags: tag('Watches'),
    summary: 'Your watches with their coverage, as first published',
    description: 'Kept for existing clients: the same as /api/me/watches/coverage, with each location flat (`latitude`, `longitude`) and `centreCount`/`centres` for `centerCount`/`centers`.',
    deprecated: true,
    response: replies({ 200: strictObject({ watches: Type.Array(LegacyWatchCoverage) }) }),
  };
  app.get('/api/web/watches', { onRequest: app.authenticate, schema: legacySchema }, async (request) => ({
    watches: (await watchCoverage(pool, userOf(request).id, readPool)).map(legacyCoverage),
  }));
};
