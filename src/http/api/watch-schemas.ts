/** The schemas of the watch routes (watches.ts): what a watch is sent as, and answered as. */
import { Type, type Static } from '@fastify/type-provider-typebox';
import { Nullable } from '../replies.js';
import { DateTime, NotificationMethod, strictObject, TestType, Uuid } from '../schemas.js';

const Latitude = Type.Number({ minimum: -90, maximum: 90 });
const Longitude = Type.Number({ minimum: -180, maximum: 180 });
const Day = Type.String({ format: 'date' });

export const WatchBody = strictObject({
  location: Type.Optional(strictObject({ latitude: Latitude, longitude: Longitude })),
  postcode: Type.Optional(Type.String({ minLength: 2, maxLength: 10, description: 'A UK postcode (any case and spacing), or an outward code alone ("SW1A"): placed offline' })),
  radiusMiles: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
  method: NotificationMethod,
  testTypes: Type.Array(TestType, { minItems: 1, maxItems: 2, uniqueItems: true }),
  earliestDate: Type.Optional(Type.Union([Type.Null(), Day])),
  latestDate: Type.Optional(Type.Union([Type.Null(), Day])),
  label: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 100 })])),
  isActive: Type.Optional(Type.Boolean()),
});
export type WatchBodyT = Static<typeof WatchBody>;

/** How precisely a postcode placed a point (watches/postcodes.ts Precision). */
export const Precision = Type.Union([Type.Literal('postcode'), Type.Literal('outcode')], {
  description: '`postcode`: at the postcode\'s own point; `outcode`: at the centre of its outward code (the postcode is not imported, or only an outward code was given)',
});

// the fields every answer about a watch carries, whichever way it spells the rest
const watchFields = {
  id: Uuid,
  label: Nullable(Type.String()),
  postcode: Nullable(Type.String({ description: 'As normalised: "SW1A 1AA", or an outward code alone ("SW1A")' })),
  // null when the watch was placed by `location`
  precision: Nullable(Precision),
  radiusMiles: Type.Number(),
  method: NotificationMethod,
  testTypes: Type.Array(TestType),
  earliestDate: Nullable(Day),
  latestDate: Nullable(Day),
  isActive: Type.Boolean(),
};

/** A watch (watches/watches.ts Watch). */
export const Watch = strictObject({
  ...watchFields,
  location: strictObject({ latitude: Latitude, longitude: Longitude }),
  createdAt: DateTime,
  updatedAt: DateTime,
});

const CoveredCenter = strictObject({
  id: Uuid,
  name: Type.String(),
  postcode: Type.String(),
  distanceMiles: Type.Number({ minimum: 0 }),
  freeSlots: Type.Integer({ minimum: 0 }),
});

/** A watch with the centres it covers (watches/coverage.ts WatchCoverage). */
export const WatchCoverage = Type.Object(
  {
    ...Watch.properties,
    centerCount: Type.Integer({ minimum: 0, description: 'Every active centre within the radius' }),
    freeSlots: Type.Integer({ minimum: 0, description: 'Free slots at the listed centres' }),
    centers: Type.Array(CoveredCenter, { description: 'The nearest 20 of them' }),
  },
  { additionalProperties: false },
);

/** The same as GET /api/web/watches first answered it: a flat location, British spellings. */
export const LegacyWatchCoverage = strictObject({
  ...watchFields,
  latitude: Latitude,
  longitude: Longitude,
  centreCount: Type.Integer({ minimum: 0 }),
  freeSlots: Type.Integer({ minimum: 0 }),
  centres: Type.Array(CoveredCenter),
});
