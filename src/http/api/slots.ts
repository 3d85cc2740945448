/** GET /api/slots (search, public) and POST /api/slots/:slotId/hold (any signed-in user). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { placeHold } from '../../booking/holds.js';
import { searchSlots } from '../../slots/search.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { byClient } from '../rate-limit.js';
import { mapRefusals, parseDate } from '../refusals.js';
import { Appointment, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { DateTime, noBody, strictObject, TestType, Uuid } from '../schemas.js';

const DAY_MS = 86_400_000;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

const SearchQuery = strictObject({
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  radiusMiles: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 200 })),
  testType: Type.Optional(TestType),
  from: Type.Optional(DateTime),
  to: Type.Optional(DateTime),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
});

/** A free slot found by a search (slots/search.ts FoundSlot). */
const FoundSlot = strictObject({
  id: Uuid,
  testType: TestType,
  startTime: DateTime,
  endTime: DateTime,
  distanceMiles: Type.Number({ minimum: 0 }),
  center: strictObject({ id: Uuid, name: Type.String(), postcode: Type.String(), latitude: Type.Number(), longitude: Type.Number() }),
});
const SearchReply = strictObject({ slots: Type.Array(FoundSlot) });

const HeldReply = Type.Object(
  { appointment: Appointment },
  {
    additionalProperties: false,
    description: 'Held: confirm it before expiresAt',
    headers: { 'idempotent-replayed': Type.Literal('true', { description: 'Present when this is the stored answer to an earlier request with the same Idempotency-Key' }) },
  },
);

const searchSchema = {
  tags: tag('Slots'),
  summary: 'Free slots near a point, soonest first',
  description: 'Slots that have started are never shown. `from..to` defaults to the next 90 days and spans at most 366; `radiusMiles` defaults to 25, `limit` to 50.',
  querystring: SearchQuery,
  response: replies({ 200: SearchReply }),
};

const holdSchema = {
  tags: tag('Slots'),
  summary: 'Hold a slot for a few minutes (HOLD_MINUTES), to confirm it',
  description:
    'Send `Idempotency-Key: <1-200 of A-Z a-z 0-9 _ . : ->` to make retrying safe: a repeat with the same key answers what the first one did (marked `idempotent-replayed: true`); the same key on another slot is `IDEMPOTENCY_KEY_REUSED`.',
  params: strictObject({ slotId: Uuid }),
  response: replies({ 201: HeldReply }, 'VALIDATION_ERROR', 'SLOT_NOT_FOUND', 'SLOT_UNAVAILABLE', 'ALREADY_HOLDING', 'ALREADY_BOOKED', 'REHOLD_TOO_SOON', 'OVERLAPPING_APPOINTMENT', 'IDEMPOTENCY_KEY_REUSED'),
};

export const slotRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, readPool, config } = app.deps;

  app.get('/api/slots', { schema: searchSchema }, async (request) => {
    const q = request.query;
    const now = Date.now();
    const from = q.from ? parseDate(q.from, 'querystring/from') : new Date(now);
    const to = q.to ? parseDate(q.to, 'querystring/to') : new Date(Math.max(from.getTime(), now) + 90 * DAY_MS);
    if (to <= from) throw new HttpError('VALIDATION_ERROR', 'querystring/to must be after from');
    if (to.getTime() - from.getTime() > 366 * DAY_MS) throw new HttpError('VALIDATION_ERROR', 'querystring from..to must span at most 366 days');
    // a search may be a moment old: a slot it shows as free that was just taken is refused by the hold
    const slots = await searchSlots(readPool, {
      latitude: q.lat,
      longitude: q.lon,
      radiusMiles: q.radiusMiles ?? 25,
      testType: q.testType,
      // slots that have started cannot be held, so they are never shown
      from: new Date(Math.max(from.getTime(), now)),
      to,
      limit: q.limit ?? 50,
    });
    return { slots };
  });

  app.post(
    '/api/slots/:slotId/hold',
    {
      onRequest: app.authenticate,
      preValidation: noBody,
      preHandler: app.rateLimit([
        { name: 'hold-ip', max: config.HOLD_LIMIT_PER_MINUTE_IP, key: byClient },
        { name: 'hold-user', max: config.HOLD_LIMIT_PER_MINUTE, key: (r) => userOf(r).id },
      ]),
      schema: holdSchema,
    },
    async (request, reply) => {
      const user = userOf(request);
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
        throw new HttpError('VALIDATION_ERROR', 'headers/idempotency-key must be 1-200 letters, digits or _ . : -');
      }
      const answer = await mapRefusals(() =>
        placeHold(pool, { userId: user.id, slotId: request.params.slotId, defaultHoldMinutes: config.HOLD_MINUTES, idempotencyKey: key, ip: request.ip }),
      );
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      // placeHold answers 201, and a replay the 201 it stored
      return reply.code(answer.statusCode as 201).send(answer.body);
    },
  );
};
