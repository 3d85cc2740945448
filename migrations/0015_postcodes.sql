-- Placing any UK postcode offline. `postcodes` holds the full postcodes an operator has
-- imported (`npm run cli -- postcodes:import FILE`), keyed by the postcode in its usual
-- form (outward code, one space, inward code: 'SW1A 1AA'), so that a lookup is one probe
-- of the primary key's B-tree. It has no geography column: nothing searches it by distance,
-- and a watch copies the point it gets. The outward codes' centroids are not here: they are
-- shipped with the code (data/uk-outcodes.csv) and read once per process.
--
-- A watch records how precisely it was placed: 'postcode' (the postcode's own point),
-- 'outcode' (the centre of its outward code, the postcode not being imported, or only an
-- outward code given), or NULL when it was placed by coordinates (and has no postcode).

-- Up Migration
CREATE TABLE postcodes (
  -- "C": byte order, the cheapest to compare and to sort when the key is built
  postcode text COLLATE "C" PRIMARY KEY,
  latitude double precision NOT NULL,
  longitude double precision NOT NULL,
  CONSTRAINT postcodes_shape CHECK (postcode ~ '^(GIR 0AA|NPT [0-9][A-Z]{2}|[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2})$'),
  CONSTRAINT postcodes_latitude CHECK (latitude BETWEEN -90 AND 90),
  CONSTRAINT postcodes_longitude CHECK (longitude BETWEEN -180 AND 180)
);

ALTER TABLE user_preferences ADD COLUMN location_precision text;
-- watches placed by postcode before this migration got a test centre's own point
UPDATE user_preferences SET location_precision = 'postcode' WHERE postcode IS NOT NULL;
ALTER TABLE user_preferences
  ADD CONSTRAINT user_preferences_location_precision CHECK (location_precision IN ('postcode', 'outcode')),
  ADD CONSTRAINT user_preferences_precision_with_postcode CHECK ((location_precision IS NULL) = (postcode IS NULL));

-- Down Migration
ALTER TABLE user_preferences DROP CONSTRAINT IF EXISTS user_preferences_precision_with_postcode;
ALTER TABLE user_preferences DROP CONSTRAINT IF EXISTS user_preferences_location_precision;
ALTER TABLE user_preferences DROP COLUMN IF EXISTS location_precision;
DROP TABLE IF EXISTS postcodes;
