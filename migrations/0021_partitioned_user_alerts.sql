-- user_alerts partitioned by time, so that old alerts go by dropping a table instead of
-- deleting millions of rows (2.4 million per 1,000 releases at a million watches).
--
-- 1. The partition key is the id, not created_at. Ids are time-ordered (migration 0012:
--    the first 48 bits are the Unix milliseconds of the clock when the row was made, which
--    is never before its created_at, the transaction's start), so RANGE (id) is a range of
--    time. Everything delivery does reads and writes alerts by id (the job carries it), so
--    each of those statements prunes to one partition; keyed on created_at, every one of
--    them would probe every partition's primary key. The primary key (id) stays what it was.
-- 2. Weekly partitions (Monday 00:00 UTC): at the default alert_retention_days of 90 that
--    is about fourteen, so the statements that cannot prune (a learner's alerts by user_id:
--    their page, routing's gather, erasure; a slot's alerts when it is deleted) probe about
--    fourteen small indexes, and an alert outlives its retention by at most a week. Daily
--    partitions would make those probes ninety; monthly would keep alerts a month too long.
-- 3. The dedupe key (slot_id, user_id, release_id) cannot be a unique constraint of the
--    partitioned table: PostgreSQL requires the partition key in it, and with the id in it
--    it would dedupe nothing. So each partition has its own unique index on it (made by
--    user_alerts_partition_created below), the matcher inserts with ON CONFLICT DO NOTHING
--    (no target: the arbiters are the unique indexes of the partition the row goes to), and
--    the matcher takes a per-slot advisory lock before inserting (src/alerts/store.ts), so
--    that two batches writing one slot's alerts at once cannot put the same key into two
--    partitions either side of a week's boundary: the second sees the first's rows.
-- 4. A DEFAULT partition takes any id no partition covers: ids written before migration
--    0012 (random, so anywhere in the uuid space), ids given explicitly, or a week the
--    maintenance task has not yet made a partition for. An insert never fails for want of
--    a partition. When a partition is made, the default's rows in its range move into it;
--    the retention task deletes the default's rows older than the retention, in batches.
-- 5. Partitions are made and dropped by ensure_partitions and drop_partitions_before, which
--    take "now" as an argument (the retention task's, and tests that move time). Dropping a
--    partition fires no row triggers, so the counts /metrics keeps (migration 0020) are
--    corrected first by user_alerts_partition_dropping; a partition is dropped only when its
--    upper bound is at or before the cutoff and none of its rows was created after it.
-- 6. Existing rows move into the new table, which then takes over the old one's name,
--    constraints, indexes, foreign keys and triggers. This migration makes the partitions
--    that existing rows (of the last two years) need; on an empty database it makes none,
--    and the maintenance task makes the current and next weeks' on its first run.

-- Up Migration

-- the smallest time-ordered uuid of a moment, and the moment of one
CREATE FUNCTION uuid_time_floor(t timestamptz) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (lpad(to_hex(greatest(0, floor(extract(epoch FROM t) * 1000))::bigint), 12, '0') || repeat('0', 20))::uuid
$$;
CREATE FUNCTION uuid_time(u uuid) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_timestamp(('x' || left(replace(u::text, '-', ''), 12))::bit(48)::bigint / 1000.0)
$$;

-- The partition key of a partitioned table: its column, and whether it is a time-ordered uuid.
CREATE FUNCTION partition_key(parent regclass, OUT col text, OUT is_uuid boolean) LANGUAGE sql STABLE AS $$
  SELECT a.attname::text, a.atttypid = 'uuid'::regtype
    FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
   WHERE p.partrelid = parent
$$;

-- Makes the partitions of `parent` for every `period` ('week' or 'month', UTC) from the one
-- holding `since` to the one holding `upto`, named <parent>_pYYYYMMDD after their first day;
-- returns the names it made. Rows of the default partition in a new partition's range move
-- into it first (attaching it would fail otherwise). A function <parent>_partition_created
-- (regclass), where there is one, adds what a partition needs beyond the parent's indexes.
-- Writers to the table wait while partitions are made: an INSERT planned before a partition
-- of its range was attached routes the row to the default partition, whose constraint no
-- longer admits it, and fails. A writer that waited for the lock plans afresh. The lock is
-- waited for at most lock_wait (a long transaction writing the table would otherwise queue
-- every writer behind it); without it nothing more is made this time, and the next pass
-- tries again (partitions are made weeks ahead, so a pass missed costs nothing).
CREATE FUNCTION ensure_partitions(parent regclass, period text, since timestamptz, upto timestamptz, lock_wait interval DEFAULT '2 seconds')
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  k record;
  dflt regclass := to_regclass(parent::text || '_default');
  lo timestamptz := date_trunc(period, since, 'UTC');
  hi timestamptz;
  lo_v text;
  hi_v text;
  part text;
  locked boolean := false;
  wait_was text := current_setting('lock_timeout');
BEGIN
  -- two workers' passes at once: the second waits, then finds the partitions made
  PERFORM pg_advisory_xact_lock(hashtextextended('slotwatch.partitions:' || parent::text, 0));
  SELECT * INTO k FROM partition_key(parent);
  IF period NOT IN ('week', 'month') THEN
    RAISE EXCEPTION 'partition period must be week or month, not %', period;
  END IF;
  WHILE lo <= upto LOOP
    hi := ((lo AT TIME ZONE 'UTC') + ('1 ' || period)::interval) AT TIME ZONE 'UTC';
    part := parent::text || '_p' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD');
    IF to_regclass(part) IS NULL AND NOT locked THEN
      BEGIN
        PERFORM set_config('lock_timeout', (extract(epoch FROM lock_wait) * 1000)::bigint::text, true);
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', parent);
        PERFORM set_config('lock_timeout', wait_was, true);
        locked := true;
      EXCEPTION WHEN lock_not_available THEN
        PERFORM set_config('lock_timeout', wait_was, true);
        RETURN;
      END;
    END IF;
    IF to_regclass(part) IS NULL THEN
      lo_v := CASE WHEN k.is_uuid THEN uuid_time_floor(lo)::text ELSE lo::text END;
      hi_v := CASE WHEN k.is_uuid THEN uuid_time_floor(hi)::text ELSE hi::text END;
      EXECUTE format('CREATE TABLE %I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, parent);
      IF dflt IS NOT NULL THEN
        -- straight from the partition: the rows move, so the parent's counting triggers must not see them
        EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                       dflt, k.col, lo_v, k.col, hi_v, part);
      END IF;
      IF to_regprocedure(parent::text || '_partition_created(regclass)') IS NOT NULL THEN
        EXECUTE format('SELECT %I(%L::regclass)', parent::text || '_partition_created', part);
      END IF;
      EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo_v, hi_v);
      RETURN NEXT part;
    END IF;
    lo := hi;
  END LOOP;
END $$;

-- Each partition of `parent` with the moment its range ends (the default partition has none).
CREATE FUNCTION partitions_of(parent regclass)
RETURNS TABLE (part regclass, upper_bound timestamptz) LANGUAGE sql STABLE AS $$
  SELECT c.oid::regclass,
         CASE WHEN (partition_key(parent)).is_uuid THEN uuid_time(b::uuid) ELSE b::timestamptz END
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid,
         LATERAL (SELECT substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']*)''\)') AS b) x
   WHERE i.inhparent = parent AND b IS NOT NULL
   ORDER BY 2
$$;

-- Drops the partitions of `parent` whose range ends at or before `cutoff`, unless one of
-- their rows was created after it (a row given an id or a created_at of its own); returns
-- each such partition and whether it went. A function <parent>_partition_dropping(regclass),
-- where there is one, runs first: dropping a table fires no row or statement triggers.
-- Dropping takes an exclusive lock on the parent: a partition whose lock is not had within
-- lock_wait is left for the next run rather than queueing every reader behind it.
CREATE FUNCTION drop_partitions_before(parent regclass, cutoff timestamptz, lock_wait interval DEFAULT '2 seconds')
RETURNS TABLE (part text, dropped boolean) LANGUAGE plpgsql AS $$
DECLARE
  p record;
  young boolean;
  wait_was text := current_setting('lock_timeout');
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('slotwatch.partitions:' || parent::text, 0));
  FOR p IN SELECT * FROM partitions_of(parent) o WHERE o.upper_bound <= cutoff LOOP
    part := p.part::text;
    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE created_at > %L)', p.part, cutoff) INTO young;
    IF young THEN
      dropped := false;
      RETURN NEXT;
      CONTINUE;
    END IF;
    BEGIN
      PERFORM set_config('lock_timeout', (extract(epoch FROM lock_wait) * 1000)::bigint::text, true);
      EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', parent);
      IF to_regprocedure(parent::text || '_partition_dropping(regclass)') IS NOT NULL THEN
        EXECUTE format('SELECT %I(%L::regclass)', parent::text || '_partition_dropping', p.part);
      END IF;
      EXECUTE format('DROP TABLE %s', p.part);
      dropped := true;
    EXCEPTION WHEN lock_not_available THEN
      dropped := false;
    END;
    PERFORM set_config('lock_timeout', wait_was, true);
    RETURN NEXT;
  END LOOP;
END $$;

ALTER TABLE user_alerts RENAME TO user_alerts_unpartitioned;
ALTER INDEX user_alerts_pkey RENAME TO user_alerts_unpartitioned_pkey;
ALTER INDEX user_alerts_slot_user_release_key RENAME TO user_alerts_unpartitioned_key;
ALTER INDEX user_alerts_user RENAME TO user_alerts_unpartitioned_user;
ALTER INDEX user_alerts_message RENAME TO user_alerts_unpartitioned_message;
ALTER INDEX user_alerts_unfinished RENAME TO user_alerts_unpartitioned_unfinished;

CREATE TABLE user_alerts (
  id                  uuid NOT NULL DEFAULT uuid_time_ordered(),
  user_id             uuid NOT NULL,
  slot_id             uuid NOT NULL,
  preference_id       uuid,
  distance_m          double precision CONSTRAINT user_alerts_distance CHECK (distance_m >= 0),
  sent                boolean NOT NULL DEFAULT false,
  status              alert_status NOT NULL DEFAULT 'PENDING',
  channel             notification_method,
  attempts            integer NOT NULL DEFAULT 0 CONSTRAINT user_alerts_attempts CHECK (attempts >= 0),
  last_error          text,
  provider_message_id text,
  lease_until         timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz,
  enqueued_at         timestamptz,
  priority            appointment_priority NOT NULL DEFAULT 'NORMAL',
  message_id          uuid,
  release_id          bigint,
  CONSTRAINT user_alerts_sent_matches_status CHECK (sent = (status = 'SENT')),
  CONSTRAINT user_alerts_sent_at CHECK (NOT sent OR sent_at IS NOT NULL)
) PARTITION BY RANGE (id);

-- the dedupe key, per partition (see 3 above)
CREATE FUNCTION user_alerts_partition_created(part regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE UNIQUE INDEX %I ON %s (slot_id, user_id, release_id) NULLS NOT DISTINCT',
                 replace(part::text, '"', '') || '_slot_user_release_key', part);
END $$;

-- the gauges (alerts by status and channel) lose what a dropped partition held; the
-- counters (latency histograms) never go down, as on a DELETE
CREATE FUNCTION user_alerts_partition_dropping(part regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format(
    'INSERT INTO metric_count_changes (metric, labels, value)
     SELECT s.metric, s.labels, -sum(g.n * s.value)
       FROM (SELECT status, channel, count(*)::float8 AS n FROM %s GROUP BY 1, 2) g,
            user_alert_series(g.status, g.channel, NULL, NULL, NULL) s
      WHERE s.gauge GROUP BY 1, 2', part);
END $$;

CREATE TABLE user_alerts_default PARTITION OF user_alerts DEFAULT;
SELECT user_alerts_partition_created('user_alerts_default');

-- (ids with version 7 are time-ordered; the rest go to the default partition). The weeks from
-- the oldest row's, or from this one on an empty table, so that new alerts land in their own
-- partition from the start: a row the retention task moves out of the default partition
-- later is a DELETE and an INSERT, which a concurrent UPDATE of that row does not follow
SELECT ensure_partitions('user_alerts', 'week', greatest(coalesce(min(uuid_time(id)), now()), now() - interval '2 years'), now() + interval '4 weeks')
  FROM user_alerts_unpartitioned
 WHERE substr(id::text, 15, 1) = '7' AND uuid_time(id) <= now() + interval '1 day';

INSERT INTO user_alerts (id, user_id, slot_id, preference_id, distance_m, sent, status, channel, attempts, last_error, provider_message_id,
                         lease_until, created_at, updated_at, sent_at, enqueued_at, priority, message_id, release_id)
SELECT id, user_id, slot_id, preference_id, distance_m, sent, status, channel, attempts, last_error, provider_message_id,
       lease_until, created_at, updated_at, sent_at, enqueued_at, priority, message_id, release_id
  FROM user_alerts_unpartitioned;
-- its counting triggers go with it: the counts already hold these rows
DROP TABLE user_alerts_unpartitioned;

ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_pkey PRIMARY KEY (id);
-- a learner's alerts, newest first (ids are time-ordered): their list, and deleting them
CREATE INDEX user_alerts_user ON user_alerts (user_id, id);
CREATE INDEX user_alerts_message ON user_alerts (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX user_alerts_unfinished ON user_alerts (created_at) WHERE status IN ('PENDING', 'SENDING');
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_message_id_fkey FOREIGN KEY (message_id) REFERENCES alert_messages (id) ON DELETE SET NULL;
CREATE TRIGGER user_alerts_updated_at BEFORE UPDATE ON user_alerts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_alerts_count_insert AFTER INSERT ON user_alerts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
CREATE TRIGGER user_alerts_count_update AFTER UPDATE ON user_alerts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
CREATE TRIGGER user_alerts_count_delete AFTER DELETE ON user_alerts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
ANALYZE user_alerts;

-- Down Migration
ALTER TABLE user_alerts RENAME TO user_alerts_partitioned;
ALTER INDEX user_alerts_pkey RENAME TO user_alerts_partitioned_pkey;
ALTER INDEX user_alerts_user RENAME TO user_alerts_partitioned_user;
ALTER INDEX user_alerts_message RENAME TO user_alerts_partitioned_message;
ALTER INDEX user_alerts_unfinished RENAME TO user_alerts_partitioned_unfinished;
CREATE TABLE user_alerts (LIKE user_alerts_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
-- one row per key again: a key can repeat only across partitions
INSERT INTO user_alerts SELECT DISTINCT ON (slot_id, user_id, release_id) * FROM user_alerts_partitioned ORDER BY slot_id, user_id, release_id, id;
DROP TABLE user_alerts_partitioned;
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_pkey PRIMARY KEY (id);
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_slot_user_release_key UNIQUE NULLS NOT DISTINCT (slot_id, user_id, release_id);
CREATE INDEX user_alerts_user ON user_alerts (user_id, id);
CREATE INDEX user_alerts_message ON user_alerts (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX user_alerts_unfinished ON user_alerts (created_at) WHERE status IN ('PENDING', 'SENDING');
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_message_id_fkey FOREIGN KEY (message_id) REFERENCES alert_messages (id) ON DELETE SET NULL;
CREATE TRIGGER user_alerts_updated_at BEFORE UPDATE ON user_alerts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_alerts_count_insert AFTER INSERT ON user_alerts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
CREATE TRIGGER user_alerts_count_update AFTER UPDATE ON user_alerts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
CREATE TRIGGER user_alerts_count_delete AFTER DELETE ON user_alerts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
DROP FUNCTION IF EXISTS user_alerts_partition_dropping(regclass);
DROP FUNCTION IF EXISTS user_alerts_partition_created(regclass);
DROP FUNCTION IF EXISTS drop_partitions_before(regclass, timestamptz, interval);
DROP FUNCTION IF EXISTS partitions_of(regclass);
DROP FUNCTION IF EXISTS ensure_partitions(regclass, text, timestamptz, timestamptz, interval);
DROP FUNCTION IF EXISTS partition_key(regclass);
DROP FUNCTION IF EXISTS uuid_time(uuid);
DROP FUNCTION IF EXISTS uuid_time_floor(timestamptz);
