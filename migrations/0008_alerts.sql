-- Matching released slots to watches, and the hand-off of alerts to delivery.
--
-- Each watch has its own radius, so a plain ST_DWithin probe of the location index must
-- use the largest radius (100 miles) and then throw most of what it finds away: the cost
-- would follow the watches within 100 miles, not the matches. Instead each watch carries
-- a 4-D box that holds every release it could want: a longitude/latitude box certain to
-- contain its whole circle on the WGS84 spheroid, its date window (days since 2000-01-01)
-- and its test types (1 practical, 2 theory). An n-D GiST index on it finds, per released
-- slot, only the watches whose box holds the slot's (lon, lat, day, type); the exact
-- geodesic distance then keeps about pi/4 of them. So the work follows the matches.

-- Up Migration

-- The watch's box as a 2-point LINESTRING ZM (its n-D bounding box is the box). Bounds
-- rather than an exact circle: along any path of length r, latitude moves by at most
-- r / M_min radians (M_min = a(1-e^2) = 6335439 m, the smallest meridional radius of
-- curvature), and longitude by at most r / (N cos(phi)) with N >= a = 6378137 m and
-- |phi| <= |lat| + dlat. A box reaching a pole or the antimeridian takes every longitude,
-- which is wasteful but never wrong. An open end of the date window is +-1e6 days.
CREATE FUNCTION user_preferences_match_box(
  latitude double precision, longitude double precision, radius_miles numeric,
  test_types jsonb, earliest_date date, latest_date date
) RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ST_SetSRID(ST_MakeLine(
           ST_MakePoint(b.xmin, greatest(-90, latitude - b.dlat), b.dmin, b.tmin),
           ST_MakePoint(b.xmax, least(90, latitude + b.dlat), b.dmax, b.tmax)), 4326)
  FROM (
    SELECT a.dlat,
           CASE WHEN a.wrap THEN -180 ELSE longitude - a.dlon END AS xmin,
           CASE WHEN a.wrap THEN 180 ELSE longitude + a.dlon END AS xmax,
           coalesce(earliest_date - date '2000-01-01', -1000000)::double precision AS dmin,
           coalesce(latest_date - date '2000-01-01', 1000000)::double precision AS dmax,
           CASE WHEN test_types ? 'practical' THEN 1 ELSE 2 END::double precision AS tmin,
           CASE WHEN test_types ? 'theory' THEN 2 ELSE 1 END::double precision AS tmax
      FROM (
        SELECT d.dlat, d.dlon,
               abs(latitude) + d.dlat >= 89.9 OR longitude - d.dlon < -180 OR longitude + d.dlon > 180 AS wrap
          FROM (
            SELECT dl.dlat,
                   -- 1.0001: a margin for rounding, far below a metre at these radii
                   CASE WHEN abs(latitude) + dl.dlat >= 89.9 THEN 360
                        ELSE degrees(dl.r / (6378137.0 * cos(radians(abs(latitude) + dl.dlat)))) * 1.0001 END AS dlon
              FROM (SELECT radius_miles::double precision * 1609.344 AS r,
                           degrees(radius_miles::double precision * 1609.344 / 6335439.0) * 1.0001 AS dlat) dl
          ) d
      ) a
  ) b
$$;

-- The probe for a released slot: the point the watches' boxes are tested against.
CREATE FUNCTION slot_match_point(latitude double precision, longitude double precision, slot_date date, test_type test_type)
RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ST_SetSRID(ST_MakePoint(longitude, latitude, (slot_date - date '2000-01-01')::double precision,
                                 CASE test_type WHEN 'practical' THEN 1 ELSE 2 END::double precision), 4326)
$$;

ALTER TABLE user_preferences
  ADD COLUMN match_box geometry(LineStringZM, 4326) GENERATED ALWAYS AS
    (user_preferences_match_box(latitude, longitude, radius_miles, preferred_test_types, earliest_date, latest_date)) STORED;
CREATE INDEX user_preferences_match_box_active ON user_preferences USING gist (match_box gist_geometry_ops_nd) WHERE is_active;

-- when the alert was last handed to the deliveries queue: null after a crash between the
-- commit that wrote it and the enqueue, which is what the pending-alert sweep looks for
ALTER TABLE user_alerts ADD COLUMN enqueued_at timestamptz;

-- one row per poll of a provider's availability feed: what it brought, or why it was
-- refused (a malformed document changes nothing and is counted here, where every process
-- and the metrics scrape can see it)
CREATE TABLE feed_polls (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source    text NOT NULL CONSTRAINT feed_polls_source_format CHECK (source ~ '^[a-z0-9_-]{1,40}$'),
  outcome   text NOT NULL CONSTRAINT feed_polls_outcome CHECK (outcome IN ('ok', 'malformed', 'unavailable')),
  slots     integer CONSTRAINT feed_polls_slots CHECK (slots >= 0),
  inserted  integer CONSTRAINT feed_polls_inserted CHECK (inserted >= 0),
  updated   integer CONSTRAINT feed_polls_updated CHECK (updated >= 0),
  error     text CONSTRAINT feed_polls_error_length CHECK (length(error) <= 1000),
  polled_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feed_polls_source ON feed_polls (source, polled_at DESC);

-- Down Migration
DROP TABLE IF EXISTS feed_polls;
ALTER TABLE user_alerts DROP COLUMN IF EXISTS enqueued_at;
DROP INDEX IF EXISTS user_preferences_match_box_active;
ALTER TABLE user_preferences DROP COLUMN IF EXISTS match_box;
DROP FUNCTION IF EXISTS slot_match_point(double precision, double precision, date, test_type);
DROP FUNCTION IF EXISTS user_preferences_match_box(double precision, double precision, numeric, jsonb, date, date);
