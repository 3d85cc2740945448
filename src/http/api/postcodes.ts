/**
 * GET /api/postcodes/:postcode: where a postcode would place a watch, for the pages' "check"
 * button, and placePostcode, the one way a route turns a postcode into a point. Public:
 * the answer is open data (the imported postcodes and the shipped outward codes) about a
 * place, never about a person; it is rate limited per IP so that it cannot be used to copy
 * the table wholesale at the web process's expense.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Queryable } from '../../db/types.js';
import { locatePostcode, normalisePostcode, outwardCode, type PlacedPostcode } from '../../watches/postcodes.js';
import { HttpError } from '../errors.js';
import { byClient } from '../rate-limit.js';
import { replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { strictObject } from '../schemas.js';
import { Precision } from './watch-schemas.js';

/** Lookups one IP may make per minute: far more than a person checking postcodes by hand. */
export const POSTCODE_LOOKUPS_PER_MINUTE_IP = 120;

/** `input` normalised (normalisePostcode), or 400 INVALID_POSTCODE when it is not shaped like a postcode. */
function normalised(input: string): string {
  const postcode = normalisePostcode(input);
  if (!postcode) throw new HttpError('INVALID_POSTCODE', `"${input}" is not a UK postcode (for example SW1A 1AA) or outward code (SW1A)`);
  return postcode;
}

/** Normalises and places `input`: 400 INVALID_POSTCODE when it is not shaped like one, UNKNOWN_POSTCODE when it cannot be placed. */
export async function placePostcode(db: Queryable, input: string): Promise<PlacedPostcode> {
  const postcode = normalised(input);
  const placed = await locatePostcode(db, postcode);
  if (!placed) {
    throw new HttpError('UNKNOWN_POSTCODE', `postcode ${postcode} cannot be placed: ${outwardCode(postcode)} is not a UK outward code we know; check it, or give location {latitude, longitude} instead`);
  }
  return placed;
}

const Placed = strictObject({
  postcode: Type.String({ description: 'As normalised: "SW1A 1AA", or an outward code alone ("SW1A")' }),
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
  precision: Precision,
});

const schema = {
  tags: tag('Watches'),
  summary: 'Where a postcode would place a watch',
  description: `A full postcode that is imported answers its own point (\`precision: postcode\`); any other postcode, or an outward code alone, the centre of its outward code (\`precision: outcode\`). No sign-in needed; at most ${POSTCODE_LOOKUPS_PER_MINUTE_IP} lookups per minute per IP.`,
  params: strictObject({ postcode: Type.String({ minLength: 1, maxLength: 20, description: 'Any case and spacing: "sw1a1aa", "SW1A 1AA", "SW1A"' }) }),
  response: replies({ 200: Placed }, 'INVALID_POSTCODE', 'NOT_FOUND'),
};

export const postcodeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  app.get(
    '/api/postcodes/:postcode',
    { preHandler: app.rateLimit('postcode-ip', POSTCODE_LOOKUPS_PER_MINUTE_IP, byClient), schema },
    async (request) => {
      const postcode = normalised(request.params.postcode);
      const placed = await locatePostcode(pool, postcode);
      if (!placed) throw new HttpError('NOT_FOUND', `postcode ${postcode} cannot be placed: ${outwardCode(postcode)} is not a UK outward code we know`);
      return placed;
    },
  );
};
