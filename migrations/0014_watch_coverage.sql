-- Matching by an equality lookup: each live watch's test centres, precomputed.
--
-- The n-D GiST box index of migrations 0008/0011 cost more to search than the alerts it
-- found cost to write: PostGIS's n-D opclass splits pages linearly, and with open date
-- windows as +-1e6 days and heavily overlapping city clusters its tree was so loosely
-- organised that a probe touched ~176 of its ~1,100 pages to find ~280 candidates. But
-- slots are always at test centres (time_slots.center_id NOT NULL), and there are only a
-- few hundred centres. So the geography is settled when a watch is written, not when a
-- slot is released: watch_coverage holds one row per live watch, centre within its radius
-- and test type it wants, with everything the matcher writes into an alert, and matching
-- becomes an index-only range scan on (center_id, test_type, latest_date) per slot.
--
-- The rows are kept in step by triggers, in the transaction that changes a watch or a
-- centre, statement-level with transition tables, so that a bulk insert of watches is one
-- set-based statement, not one trigger call per row:
-- - a watch inserted, or updated in anything its rows depend on (location, radius, test
--   types, dates, is_active, user_active, user_priority, notification_method, user_id):
--   its rows are recomputed. user_active and user_priority arrive through the users
--   trigger of migrations 0011/0013, which updates the watches, so a user deactivated or
--   moved to another tier is covered too. A watch deleted: its rows go.
-- - a centre inserted, or its latitude/longitude changed: its rows are recomputed against
--   every live watch within the largest radius (100 miles, user_preferences_radius_range).
--   A centre deleted: its rows go.
--
-- No foreign keys: their checks took a quarter to two fifths of the time of writing a bulk
-- insert's coverage (two RI queries per row; the one on the watch also locks, and so
-- WAL-logs, each new watch row once more).
-- The delete triggers do what ON DELETE CASCADE would, and only the triggers write rows,
-- each for watches its statement has locked (or, for a centre, under the lock below), so
-- no row can outlive its watch or centre. TRUNCATE of either table empties this one.
--
-- "Within its radius" is exactly what matching tested before: the geodesic distance on
-- the WGS84 spheroid, ST_Distance(watch.location, centre.location, true), at most
-- radius_miles * 1609.344 m. Candidates come from a GiST index on a sphere (cheap) with a
-- 1% margin, more than the largest gap between spherical and spheroidal distance (~0.56%:
-- the meridional radius of curvature is 6,335 km at the equator, the sphere's 6,371 km).
--
-- Concurrency. A watch writer reads the centres and a centre writer reads the watches; if
-- both ran at once, each could miss the other's uncommitted row. So a centre writer takes
-- user_preferences in SHARE mode before it reads the watches: it waits for every running
-- watch writer (ROW EXCLUSIVE) to commit and then reads with a fresh snapshot, and a watch
-- writer that comes later waits for it and then sees the centre as committed. That relies
-- on READ COMMITTED's new snapshot per statement, so a centre write under REPEATABLE READ
-- or SERIALIZABLE is refused (its snapshot may predate a watch that committed while it
-- waited). Watch writes (src/watches, unsubscribe, the users trigger) run under READ
-- COMMITTED; one under REPEATABLE READ racing a centre move could keep the centre's old
-- place in its rows. Centre writes are rare (an operator; the DVSA import leaves unchanged
-- rows alone), so holding off watch writes for the length of one is a fair price.
--
-- Rows are inserted in the matching index's order (the bulk case: one pass over that
-- index instead of a random page per row), and watches get time-ordered ids like alerts
-- (uuid_time_ordered, migration 0012), so a new watch's rows append to the primary key
-- instead of landing on random pages: together they halved the WAL of a bulk load.

-- Up Migration

-- no watch or centre may change while the backfill reads them and the triggers appear
LOCK TABLE user_preferences, test_centers IN SHARE MODE;

ALTER TABLE user_preferences ALTER COLUMN id SET DEFAULT uuid_time_ordered();

CREATE TABLE watch_coverage (
  preference_id       uuid NOT NULL,
  center_id           uuid NOT NULL,
  user_id             uuid NOT NULL,
  -- ST_Distance(watch, centre, true): what the alert records, and what picks the nearest of
  -- a user's watches when several cover one slot
  distance_m          double precision NOT NULL CONSTRAINT watch_coverage_distance CHECK (distance_m >= 0),
  -- the watch's window, open ends as -infinity/infinity so the matcher's test needs no nulls
  earliest_date       date NOT NULL,
  latest_date         date NOT NULL,
  test_type           test_type NOT NULL,
  notification_method notification_method NOT NULL,
  user_priority       appointment_priority NOT NULL
);

-- The rule for one watch, given its values: the centres within its radius, times the test
-- types it wants. An inlinable SQL function (LANGUAGE sql, one SELECT, not STRICT), so a
-- caller's plan probes test_centers' GiST index once per watch and type.
CREATE FUNCTION watch_coverage_rows(
  watch_id uuid, watch_user_id uuid, watch_location geography, watch_radius_miles numeric, watch_test_types jsonb,
  watch_earliest_date date, watch_latest_date date, watch_method notification_method, watch_priority appointment_priority
) RETURNS SETOF watch_coverage LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT watch_id, c.id, watch_user_id, d.distance_m,
         coalesce(watch_earliest_date, '-infinity'::date), coalesce(watch_latest_date, 'infinity'::date),
         t.test_type, watch_method, watch_priority
    FROM test_centers c
   CROSS JOIN LATERAL (SELECT ST_Distance(watch_location, c.location, true) AS distance_m) d
   CROSS JOIN unnest(enum_range(NULL::test_type)) AS t (test_type)
   WHERE ST_DWithin(c.location, watch_location, watch_radius_miles::double precision * 1609.344 * 1.01, false)
     AND d.distance_m <= watch_radius_miles::double precision * 1609.344
     AND watch_test_types ? t.test_type::text
$$;

INSERT INTO watch_coverage
SELECT r.*
  FROM user_preferences p
 CROSS JOIN LATERAL watch_coverage_rows(p.id, p.user_id, p.location, p.radius_miles, p.preferred_test_types,
                                        p.earliest_date, p.latest_date, p.notification_method, p.user_priority) r
 WHERE p.is_active AND p.user_active;

-- built after the backfill: a sort, not an index insertion per row
ALTER TABLE watch_coverage ADD CONSTRAINT watch_coverage_pkey PRIMARY KEY (preference_id, center_id, test_type);
-- the matcher's: one range per released slot, answered from the index alone
CREATE INDEX watch_coverage_match ON watch_coverage (center_id, test_type, latest_date)
  INCLUDE (earliest_date, preference_id, user_id, distance_m, notification_method, user_priority);

CREATE FUNCTION user_preferences_cover_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO watch_coverage
  SELECT r.*
    FROM new_watches p
   CROSS JOIN LATERAL watch_coverage_rows(p.id, p.user_id, p.location, p.radius_miles, p.preferred_test_types,
                                          p.earliest_date, p.latest_date, p.notification_method, p.user_priority) r
   WHERE p.is_active AND p.user_active
   ORDER BY r.center_id, r.test_type, r.latest_date;
  RETURN NULL;
END $$;
CREATE TRIGGER user_preferences_cover_inserted AFTER INSERT ON user_preferences
  REFERENCING NEW TABLE AS new_watches
  FOR EACH STATEMENT EXECUTE FUNCTION user_preferences_cover_inserted();

-- A trigger with transition tables cannot be UPDATE OF some columns, so the function
-- compares old and new itself: a label or updated_at change leaves the rows alone. A row
-- whose id changed counts as changed (its old id's rows go, its new id's are computed).
CREATE FUNCTION user_preferences_cover_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid[];
BEGIN
  SELECT array_agg(coalesce(n.id, o.id)) INTO changed
    FROM new_watches n
    FULL JOIN old_watches o ON o.id = n.id
   WHERE n.id IS NULL OR o.id IS NULL
      OR (n.user_id, n.latitude, n.longitude, n.radius_miles, n.preferred_test_types, n.earliest_date, n.latest_date,
          n.is_active, n.user_active, n.user_priority, n.notification_method)
         IS DISTINCT FROM
         (o.user_id, o.latitude, o.longitude, o.radius_miles, o.preferred_test_types, o.earliest_date, o.latest_date,
          o.is_active, o.user_active, o.user_priority, o.notification_method);
  IF changed IS NULL THEN
    RETURN NULL;
  END IF;
  DELETE FROM watch_coverage WHERE preference_id = ANY (changed);
  INSERT INTO watch_coverage
  SELECT r.*
    FROM new_watches p
   CROSS JOIN LATERAL watch_coverage_rows(p.id, p.user_id, p.location, p.radius_miles, p.preferred_test_types,
                                          p.earliest_date, p.latest_date, p.notification_method, p.user_priority) r
   WHERE p.is_active AND p.user_active AND p.id = ANY (changed)
   ORDER BY r.center_id, r.test_type, r.latest_date;
  RETURN NULL;
END $$;
CREATE TRIGGER user_preferences_cover_updated AFTER UPDATE ON user_preferences
  REFERENCING OLD TABLE AS old_watches NEW TABLE AS new_watches
  FOR EACH STATEMENT EXECUTE FUNCTION user_preferences_cover_updated();

CREATE FUNCTION user_preferences_cover_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM watch_coverage w USING old_watches o WHERE w.preference_id = o.id;
  RETURN NULL;
END $$;
CREATE TRIGGER user_preferences_cover_deleted AFTER DELETE ON user_preferences
  REFERENCING OLD TABLE AS old_watches
  FOR EACH STATEMENT EXECUTE FUNCTION user_preferences_cover_deleted();

-- Recomputes the rows of the given centres (ids no longer in test_centers just lose
-- theirs) against every live watch: the rule of watch_coverage_rows seen from the centre.
-- Candidates within the largest radius a watch may have (100 miles, an indexable probe of
-- the watches for one centre), then within each watch's own radius on the sphere with the
-- same margin (cheap, and it spares the spheroid for the many farther away; for many
-- centres at once the planner probes the centres per watch with it instead), then on the
-- spheroid. Takes the lock described at the top of this migration first.
CREATE FUNCTION test_centers_cover(centre_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(cardinality(centre_ids), 0) = 0 THEN
    RETURN;
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'test centres can be added, moved or deleted only under READ COMMITTED (watch_coverage, migration 0014)'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  LOCK TABLE user_preferences IN SHARE MODE;
  DELETE FROM watch_coverage WHERE center_id = ANY (centre_ids);
  INSERT INTO watch_coverage
  SELECT p.id, c.id, p.user_id, d.distance_m,
         coalesce(p.earliest_date, '-infinity'::date), coalesce(p.latest_date, 'infinity'::date),
         t.test_type, p.notification_method, p.user_priority
    FROM test_centers c
    JOIN user_preferences p
      ON ST_DWithin(p.location, c.location, 100 * 1609.344 * 1.01, false)
     AND ST_DWithin(p.location, c.location, p.radius_miles::double precision * 1609.344 * 1.01, false)
     AND p.is_active AND p.user_active
   CROSS JOIN LATERAL (SELECT ST_Distance(p.location, c.location, true) AS distance_m) d
   CROSS JOIN unnest(enum_range(NULL::test_type)) AS t (test_type)
   WHERE c.id = ANY (centre_ids)
     AND d.distance_m <= p.radius_miles::double precision * 1609.344
     AND p.preferred_test_types ? t.test_type::text
   ORDER BY c.id, t.test_type, coalesce(p.latest_date, 'infinity'::date);
END $$;

-- One function for the three triggers below, each with the transition tables it reads.
-- An update recomputes only centres whose place (or id) changed: a renamed centre, or an
-- import that changes nothing, costs a comparison. A delete goes through the lock too, so
-- that no watch written meanwhile keeps a row for the deleted centre.
CREATE FUNCTION test_centers_cover_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM test_centers_cover((SELECT array_agg(id) FROM new_centres));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM test_centers_cover((SELECT array_agg(id) FROM old_centres));
  ELSE
    PERFORM test_centers_cover((
      SELECT array_agg(coalesce(n.id, o.id))
        FROM new_centres n
        FULL JOIN old_centres o ON o.id = n.id
       WHERE n.id IS NULL OR o.id IS NULL OR (n.latitude, n.longitude) IS DISTINCT FROM (o.latitude, o.longitude)));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER test_centers_cover_inserted AFTER INSERT ON test_centers
  REFERENCING NEW TABLE AS new_centres
  FOR EACH STATEMENT EXECUTE FUNCTION test_centers_cover_changed();
CREATE TRIGGER test_centers_cover_updated AFTER UPDATE ON test_centers
  REFERENCING OLD TABLE AS old_centres NEW TABLE AS new_centres
  FOR EACH STATEMENT EXECUTE FUNCTION test_centers_cover_changed();
CREATE TRIGGER test_centers_cover_deleted AFTER DELETE ON test_centers
  REFERENCING OLD TABLE AS old_centres
  FOR EACH STATEMENT EXECUTE FUNCTION test_centers_cover_changed();

CREATE FUNCTION watch_coverage_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE watch_coverage;
  RETURN NULL;
END $$;
CREATE TRIGGER user_preferences_cover_truncated AFTER TRUNCATE ON user_preferences
  FOR EACH STATEMENT EXECUTE FUNCTION watch_coverage_truncate();
CREATE TRIGGER test_centers_cover_truncated AFTER TRUNCATE ON test_centers
  FOR EACH STATEMENT EXECUTE FUNCTION watch_coverage_truncate();

-- What the coverage replaces (src/matching/alerts.ts no longer reads it; nothing else did).
DROP INDEX user_preferences_match_box_active;
ALTER TABLE user_preferences DROP COLUMN match_box;
DROP FUNCTION slot_match_point(double precision, double precision, date, test_type);
DROP FUNCTION user_preferences_match_box(double precision, double precision, numeric, jsonb, date, date);

-- Down Migration
-- migration 0008's match box and 0011's index on it, as they were
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
CREATE FUNCTION slot_match_point(latitude double precision, longitude double precision, slot_date date, test_type test_type)
RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ST_SetSRID(ST_MakePoint(longitude, latitude, (slot_date - date '2000-01-01')::double precision,
                                 CASE test_type WHEN 'practical' THEN 1 ELSE 2 END::double precision), 4326)
$$;
ALTER TABLE user_preferences
  ADD COLUMN match_box geometry(LineStringZM, 4326) GENERATED ALWAYS AS
    (user_preferences_match_box(latitude, longitude, radius_miles, preferred_test_types, earliest_date, latest_date)) STORED;
CREATE INDEX user_preferences_match_box_active ON user_preferences USING gist (match_box gist_geometry_ops_nd)
  WHERE is_active AND user_active;

DROP TRIGGER IF EXISTS test_centers_cover_truncated ON test_centers;
DROP TRIGGER IF EXISTS user_preferences_cover_truncated ON user_preferences;
DROP FUNCTION IF EXISTS watch_coverage_truncate();
DROP TRIGGER IF EXISTS test_centers_cover_deleted ON test_centers;
DROP TRIGGER IF EXISTS test_centers_cover_updated ON test_centers;
DROP TRIGGER IF EXISTS test_centers_cover_inserted ON test_centers;
DROP FUNCTION IF EXISTS test_centers_cover_changed();
DROP FUNCTION IF EXISTS test_centers_cover(uuid[]);
DROP TRIGGER IF EXISTS user_preferences_cover_deleted ON user_preferences;
DROP FUNCTION IF EXISTS user_preferences_cover_deleted();
DROP TRIGGER IF EXISTS user_preferences_cover_updated ON user_preferences;
DROP FUNCTION IF EXISTS user_preferences_cover_updated();
DROP TRIGGER IF EXISTS user_preferences_cover_inserted ON user_preferences;
DROP FUNCTION IF EXISTS user_preferences_cover_inserted();
-- before the table: it returns the table's row type
DROP FUNCTION IF EXISTS watch_coverage_rows(uuid, uuid, geography, numeric, jsonb, date, date, notification_method, appointment_priority);
DROP TABLE IF EXISTS watch_coverage;
ALTER TABLE user_preferences ALTER COLUMN id SET DEFAULT gen_random_uuid();
