-- Extensions the schema stands on: PostGIS for geography (radius matching on the WGS84
-- spheroid), btree_gist so exclusion constraints can mix "=" on ids with "&&" on ranges.

-- Up Migration
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Down Migration
DROP EXTENSION IF EXISTS btree_gist;
DROP EXTENSION IF EXISTS postgis;
