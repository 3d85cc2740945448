-- slotwatch database schema. GENERATED FILE: do not edit it by hand.
--
-- What migrations/ build, up to 0022_partitioned_history, on PostgreSQL 15: written by
-- `npm run cli -- db:schema`, which applies every migration to a throwaway database and
-- dumps it with pg_dump --schema-only --no-owner --no-privileges. To change the schema,
-- add a migration and run that command; `db:schema --check` and test/db/schema.test.ts
-- fail while this file is out of date. Extensions are listed by their CREATE EXTENSION
-- only (PostGIS's own types and functions come from it); the migrations ledger
-- (pgmigrations) appears without its rows; pg_dump session settings are left out.
-- It is for reading: databases are built by `npm run migrate`, which records what ran.


--
-- Name: btree_gist; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;


--
-- Name: postgis; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;


--
-- Name: account_token_purpose; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.account_token_purpose AS ENUM (
    'verify',
    'reset'
);


--
-- Name: alert_status; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.alert_status AS ENUM (
    'PENDING',
    'SENDING',
    'SENT',
    'SKIPPED',
    'FAILED',
    'DIGESTED',
    'CAPPED'
);


--
-- Name: appointment_priority; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.appointment_priority AS ENUM (
    'NORMAL',
    'VIP',
    'URGENT'
);


--
-- Name: appointment_status; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.appointment_status AS ENUM (
    'HOLD',
    'CONFIRMED',
    'CANCELLED',
    'NO_SHOW'
);


--
-- Name: notification_method; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.notification_method AS ENUM (
    'email',
    'push'
);


--
-- Name: test_type; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.test_type AS ENUM (
    'practical',
    'theory'
);


--
-- Name: timeslot_status; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.timeslot_status AS ENUM (
    'AVAILABLE',
    'HOLD',
    'BOOKED'
);


--
-- Name: user_role; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.user_role AS ENUM (
    'CLIENT',
    'OPERATOR',
    'ADMIN'
);


--
-- Name: alert_message_series(uuid, text, public.alert_status, public.notification_method, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.alert_message_series(id uuid, kind text, status public.alert_status, channel public.notification_method, sent_at timestamp with time zone) RETURNS TABLE(metric text, labels jsonb, value double precision, gauge boolean)
    LANGUAGE sql STABLE
    AS $$
  SELECT 'alert_messages', jsonb_build_object('kind', kind, 'status', status, 'channel', coalesce(channel::text, 'none')), 1::float8, true
  UNION ALL
  SELECT l.* FROM user_alerts a, latency_series('delivery_latency_seconds', alert_message_series.sent_at - a.created_at) l
   WHERE alert_message_series.status = 'SENT' AND a.message_id = alert_message_series.id AND a.status = 'DIGESTED'
$$;


--
-- Name: alert_messages_count(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.alert_messages_count() RETURNS trigger
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT s.metric, s.labels, sum(s.value) FROM new_rows r, alert_message_series(r.id, r.kind, r.status, r.channel, r.sent_at) s GROUP BY 1, 2;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT metric, labels, sum(value)
      FROM (SELECT s.metric, s.labels, s.value FROM new_rows r, alert_message_series(r.id, r.kind, r.status, r.channel, r.sent_at) s
            UNION ALL
            SELECT s.metric, s.labels, -s.value FROM old_rows r, alert_message_series(r.id, r.kind, r.status, r.channel, r.sent_at) s) c
     GROUP BY 1, 2 HAVING sum(value) <> 0;
  ELSIF TG_OP = 'DELETE' THEN
    -- a deleted row leaves the gauges; counters never go down
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT s.metric, s.labels, -sum(s.value) FROM old_rows r, alert_message_series(r.id, r.kind, r.status, r.channel, r.sent_at) s WHERE s.gauge GROUP BY 1, 2;
  END IF;
  RETURN NULL;
END $$;


--
-- Name: appointment_event_series(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.appointment_event_series(event_type text) RETURNS TABLE(metric text, labels jsonb, value double precision, gauge boolean)
    LANGUAGE sql STABLE
    AS $$
  SELECT 'appointment_events', jsonb_build_object('event', event_type), 1::float8, false
$$;


--
-- Name: appointment_events_count(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.appointment_events_count() RETURNS trigger
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
BEGIN
  INSERT INTO metric_count_changes (metric, labels, value)
  SELECT s.metric, s.labels, sum(s.value) FROM new_rows r, appointment_event_series(r.event_type) s GROUP BY 1, 2;
  RETURN NULL;
END $$;


--
-- Name: appointments_copy_slot_period(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.appointments_copy_slot_period() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  SELECT tstzrange(s.start_time, s.end_time), s.test_type INTO NEW.slot_period, NEW.test_type FROM time_slots s WHERE s.id = NEW.slot_id;
  RETURN NEW; -- a missing slot leaves both null and the NOT NULL / foreign key refuse it
END $$;


--
-- Name: drop_partitions_before(regclass, timestamp with time zone, interval); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.drop_partitions_before(parent regclass, cutoff timestamp with time zone, lock_wait interval DEFAULT '00:00:02'::interval) RETURNS TABLE(part text, dropped boolean)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: ensure_partitions(regclass, text, timestamp with time zone, timestamp with time zone, interval); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ensure_partitions(parent regclass, period text, since timestamp with time zone, upto timestamp with time zone, lock_wait interval DEFAULT '00:00:02'::interval) RETURNS SETOF text
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: latency_series(text, interval); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.latency_series(name text, took interval) RETURNS TABLE(metric text, labels jsonb, value double precision, gauge boolean)
    LANGUAGE sql STABLE
    AS $$
  SELECT name || '_bucket',
         jsonb_build_object('le', coalesce(
           (SELECT min(b)::text FROM unnest('{0.05,0.1,0.25,0.5,1,2,5,10,30,60,300}'::float8[]) b WHERE extract(epoch FROM took) <= b),
           '+Inf')),
         1::float8, false
  UNION ALL SELECT name || '_sum', '{}'::jsonb, extract(epoch FROM took)::float8, false
  UNION ALL SELECT name || '_count', '{}'::jsonb, 1::float8, false
$$;


--
-- Name: partition_key(regclass); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.partition_key(parent regclass, OUT col text, OUT is_uuid boolean) RETURNS record
    LANGUAGE sql STABLE
    AS $$
  SELECT a.attname::text, a.atttypid = 'uuid'::regtype
    FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
   WHERE p.partrelid = parent
$$;


--
-- Name: partitions_of(regclass); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.partitions_of(parent regclass) RETURNS TABLE(part regclass, upper_bound timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  SELECT c.oid::regclass,
         CASE WHEN (partition_key(parent)).is_uuid THEN uuid_time(b::uuid) ELSE b::timestamptz END
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid,
         LATERAL (SELECT substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']*)''\)') AS b) x
   WHERE i.inhparent = parent AND b IS NOT NULL
   ORDER BY 2
$$;


--
-- Name: quiet_hours_until(time without time zone, time without time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.quiet_hours_until(q_start time without time zone, q_end time without time zone, at timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
  SELECT CASE
           WHEN q_start IS NULL OR q_end IS NULL THEN NULL
           WHEN q_start < q_end AND l.t >= q_start AND l.t < q_end
             THEN (l.d + q_end) AT TIME ZONE 'Europe/London'
           WHEN q_start > q_end AND l.t >= q_start
             THEN (l.d + 1 + q_end) AT TIME ZONE 'Europe/London'
           WHEN q_start > q_end AND l.t < q_end
             THEN (l.d + q_end) AT TIME ZONE 'Europe/London'
         END
    FROM (SELECT (at AT TIME ZONE 'Europe/London')::date AS d,
                 (at AT TIME ZONE 'Europe/London')::time AS t) l
$$;


--
-- Name: set_updated_at(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;


--
-- Name: slot_release_series(timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.slot_release_series(released_at timestamp with time zone, processed_at timestamp with time zone) RETURNS TABLE(metric text, labels jsonb, value double precision, gauge boolean)
    LANGUAGE sql STABLE
    AS $$
  SELECT l.* FROM latency_series('match_latency_seconds', processed_at - released_at) l WHERE processed_at IS NOT NULL
$$;


--
-- Name: slot_releases_capture(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.slot_releases_capture() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF NEW.status = 'AVAILABLE' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'AVAILABLE') THEN
    INSERT INTO slot_releases (slot_id, reason)
    VALUES (NEW.id, coalesce(nullif(current_setting('slotwatch.release_reason', true), ''),
                             CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'reopened' END));
    -- one payload-less notification per transaction (PostgreSQL folds identical ones):
    -- it only wakes the poller, which claims rows by state
    PERFORM pg_notify('slot_released', '');
  END IF;
  RETURN NULL;
END $$;


--
-- Name: slot_releases_count(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.slot_releases_count() RETURNS trigger
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT s.metric, s.labels, sum(s.value) FROM new_rows r, slot_release_series(r.released_at, r.processed_at) s GROUP BY 1, 2;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT metric, labels, sum(value)
      FROM (SELECT s.metric, s.labels, s.value FROM new_rows r, slot_release_series(r.released_at, r.processed_at) s
            UNION ALL
            SELECT s.metric, s.labels, -s.value FROM old_rows r, slot_release_series(r.released_at, r.processed_at) s) c
     GROUP BY 1, 2 HAVING sum(value) <> 0;
  END IF;
  RETURN NULL;
END $$;


--
-- Name: test_centers_cover(uuid[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.test_centers_cover(centre_ids uuid[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: test_centers_cover_changed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.test_centers_cover_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: time_slots_delete_alerts(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.time_slots_delete_alerts() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  DELETE FROM user_alerts WHERE slot_id = OLD.id;
  RETURN NULL;
END $$;


--
-- Name: time_slots_sync_appointment_period(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.time_slots_sync_appointment_period() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  UPDATE appointments SET slot_period = tstzrange(NEW.start_time, NEW.end_time), test_type = NEW.test_type WHERE slot_id = NEW.id;
  RETURN NULL;
END $$;


--
-- Name: user_alert_series(public.alert_status, public.notification_method, timestamp with time zone, timestamp with time zone, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_alert_series(status public.alert_status, channel public.notification_method, created_at timestamp with time zone, sent_at timestamp with time zone, message_id uuid) RETURNS TABLE(metric text, labels jsonb, value double precision, gauge boolean)
    LANGUAGE sql STABLE
    AS $$
  SELECT 'alerts', jsonb_build_object('status', status, 'channel', coalesce(channel::text, 'none')), 1::float8, true
  UNION ALL
  SELECT l.* FROM latency_series('delivery_latency_seconds', sent_at - created_at) l WHERE status = 'SENT'
  UNION ALL
  -- the arguments by their function's name: alert_messages has columns of the same names
  SELECT l.* FROM alert_messages m, latency_series('delivery_latency_seconds', m.sent_at - user_alert_series.created_at) l
   WHERE user_alert_series.status = 'DIGESTED' AND m.id = user_alert_series.message_id AND m.status = 'SENT'
$$;


--
-- Name: user_alerts_count(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_alerts_count() RETURNS trigger
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT s.metric, s.labels, sum(s.value) FROM new_rows r, user_alert_series(r.status, r.channel, r.created_at, r.sent_at, r.message_id) s GROUP BY 1, 2;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT metric, labels, sum(value)
      FROM (SELECT s.metric, s.labels, s.value FROM new_rows r, user_alert_series(r.status, r.channel, r.created_at, r.sent_at, r.message_id) s
            UNION ALL
            SELECT s.metric, s.labels, -s.value FROM old_rows r, user_alert_series(r.status, r.channel, r.created_at, r.sent_at, r.message_id) s) c
     GROUP BY 1, 2 HAVING sum(value) <> 0;
  ELSIF TG_OP = 'DELETE' THEN
    -- a deleted row leaves the gauges; counters never go down
    INSERT INTO metric_count_changes (metric, labels, value)
    SELECT s.metric, s.labels, -sum(s.value) FROM old_rows r, user_alert_series(r.status, r.channel, r.created_at, r.sent_at, r.message_id) s WHERE s.gauge GROUP BY 1, 2;
  END IF;
  RETURN NULL;
END $$;


--
-- Name: user_alerts_partition_created(regclass); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_alerts_partition_created(part regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
  EXECUTE format('CREATE UNIQUE INDEX %I ON %s (slot_id, user_id, release_id) NULLS NOT DISTINCT',
                 replace(part::text, '"', '') || '_slot_user_release_key', part);
END $$;


--
-- Name: user_alerts_partition_dropping(regclass); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_alerts_partition_dropping(part regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
  EXECUTE format(
    'INSERT INTO metric_count_changes (metric, labels, value)
     SELECT s.metric, s.labels, -sum(g.n * s.value)
       FROM (SELECT status, channel, count(*)::float8 AS n FROM %s GROUP BY 1, 2) g,
            user_alert_series(g.status, g.channel, NULL, NULL, NULL) s
      WHERE s.gauge GROUP BY 1, 2', part);
END $$;


--
-- Name: user_preferences_cover_deleted(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_preferences_cover_deleted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  DELETE FROM watch_coverage w USING old_watches o WHERE w.preference_id = o.id;
  RETURN NULL;
END $$;


--
-- Name: user_preferences_cover_inserted(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_preferences_cover_inserted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: user_preferences_cover_updated(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_preferences_cover_updated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: user_preferences_forget_alerts(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_preferences_forget_alerts() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  UPDATE user_alerts SET preference_id = NULL WHERE preference_id = OLD.id;
  RETURN NULL;
END $$;


--
-- Name: user_preferences_take_user_active(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_preferences_take_user_active() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
  u record;
BEGIN
  SELECT is_active AND email_verified_at IS NOT NULL AS alertable, priority INTO u FROM users WHERE id = NEW.user_id FOR SHARE;
  -- no row (a user_id the foreign key will refuse anyway) leaves the defaults
  NEW.user_active := coalesce(u.alertable, true);
  NEW.user_priority := coalesce(u.priority, 'NORMAL');
  RETURN NEW;
END $$;


--
-- Name: user_quiet_hours_until(time without time zone, time without time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.user_quiet_hours_until(u_start time without time zone, u_end time without time zone, at timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $_$
  SELECT CASE
           WHEN u_start IS NOT NULL THEN quiet_hours_until(u_start, u_end, at)
           ELSE (SELECT quiet_hours_until((value ->> 'start')::time, (value ->> 'end')::time, at)
                   FROM system_config
                  WHERE key = 'quiet_hours_default' AND jsonb_typeof(value) = 'object'
                    AND value ->> 'start' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                    AND value ->> 'end' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$')
         END
$_$;


--
-- Name: users_pass_active_to_preferences(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.users_pass_active_to_preferences() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
  alertable boolean := NEW.is_active AND NEW.email_verified_at IS NOT NULL;
BEGIN
  UPDATE user_preferences SET user_active = alertable, user_priority = NEW.priority
   WHERE user_id = NEW.id AND (user_active IS DISTINCT FROM alertable OR user_priority IS DISTINCT FROM NEW.priority);
  RETURN NULL;
END $$;


--
-- Name: uuid_time(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.uuid_time(u uuid) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  SELECT to_timestamp(('x' || left(replace(u::text, '-', ''), 12))::bit(48)::bigint / 1000.0)
$$;


--
-- Name: uuid_time_floor(timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.uuid_time_floor(t timestamp with time zone) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  SELECT (lpad(to_hex(greatest(0, floor(extract(epoch FROM t) * 1000))::bigint), 12, '0') || repeat('0', 20))::uuid
$$;


--
-- Name: uuid_time_ordered(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.uuid_time_ordered() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    AS $$
  -- a v4 uuid with its first 48 bits replaced by the time and its version nibble set to 7
  SELECT encode(set_bit(set_bit(
           overlay(uuid_send(gen_random_uuid())
                   PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                   FROM 1 FOR 6),
           52, 1), 53, 1), 'hex')::uuid
$$;


--
-- Name: watch_coverage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.watch_coverage (
    preference_id uuid NOT NULL,
    center_id uuid NOT NULL,
    user_id uuid NOT NULL,
    distance_m double precision NOT NULL,
    earliest_date date NOT NULL,
    latest_date date NOT NULL,
    test_type public.test_type NOT NULL,
    notification_method public.notification_method NOT NULL,
    user_priority public.appointment_priority NOT NULL,
    CONSTRAINT watch_coverage_distance CHECK ((distance_m >= (0)::double precision))
);


--
-- Name: watch_coverage_rows(uuid, uuid, public.geography, numeric, jsonb, date, date, public.notification_method, public.appointment_priority); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.watch_coverage_rows(watch_id uuid, watch_user_id uuid, watch_location public.geography, watch_radius_miles numeric, watch_test_types jsonb, watch_earliest_date date, watch_latest_date date, watch_method public.notification_method, watch_priority public.appointment_priority) RETURNS SETOF public.watch_coverage
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
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


--
-- Name: watch_coverage_truncate(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.watch_coverage_truncate() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  TRUNCATE watch_coverage;
  RETURN NULL;
END $$;


--
-- Name: account_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.account_tokens (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    purpose public.account_token_purpose NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT account_tokens_expires_after_created CHECK ((expires_at > created_at)),
    CONSTRAINT account_tokens_token_hash_length CHECK ((length(token_hash) = 32))
);


--
-- Name: alert_messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alert_messages (
    id uuid DEFAULT public.uuid_time_ordered() NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    status public.alert_status DEFAULT 'PENDING'::public.alert_status NOT NULL,
    channel public.notification_method,
    reaches_cap boolean DEFAULT false NOT NULL,
    send_after timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    lease_until timestamp with time zone,
    last_error text,
    provider_message_id text,
    enqueued_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT alert_messages_attempts CHECK ((attempts >= 0)),
    CONSTRAINT alert_messages_kind CHECK ((kind = ANY (ARRAY['single'::text, 'digest'::text]))),
    CONSTRAINT alert_messages_sent_at CHECK (((status = 'SENT'::public.alert_status) = (sent_at IS NOT NULL))),
    CONSTRAINT alert_messages_status CHECK ((status = ANY (ARRAY['PENDING'::public.alert_status, 'SENDING'::public.alert_status, 'SENT'::public.alert_status, 'SKIPPED'::public.alert_status, 'FAILED'::public.alert_status])))
);


--
-- Name: appointment_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.appointment_events (
    id bigint NOT NULL,
    appointment_id uuid NOT NULL,
    event_type text NOT NULL,
    from_status public.appointment_status,
    to_status public.appointment_status,
    actor_user_id uuid,
    actor text DEFAULT 'system'::text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT appointment_events_actor CHECK ((actor = ANY (ARRAY['user'::text, 'operator'::text, 'admin'::text, 'system'::text]))),
    CONSTRAINT appointment_events_type_format CHECK ((event_type ~ '^[A-Z][A-Z_]{1,40}$'::text))
)
PARTITION BY RANGE (created_at);


--
-- Name: appointment_events_default; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.appointment_events_default (
    id bigint NOT NULL,
    appointment_id uuid NOT NULL,
    event_type text NOT NULL,
    from_status public.appointment_status,
    to_status public.appointment_status,
    actor_user_id uuid,
    actor text DEFAULT 'system'::text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT appointment_events_actor CHECK ((actor = ANY (ARRAY['user'::text, 'operator'::text, 'admin'::text, 'system'::text]))),
    CONSTRAINT appointment_events_type_format CHECK ((event_type ~ '^[A-Z][A-Z_]{1,40}$'::text))
);


--
-- Name: appointment_events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.appointment_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.appointment_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: appointments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.appointments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid,
    slot_id uuid NOT NULL,
    status public.appointment_status DEFAULT 'HOLD'::public.appointment_status NOT NULL,
    priority public.appointment_priority DEFAULT 'NORMAL'::public.appointment_priority NOT NULL,
    slot_period tstzrange NOT NULL,
    expires_at timestamp with time zone,
    confirmed_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    test_type public.test_type NOT NULL,
    predates_booking_limit boolean DEFAULT false NOT NULL,
    CONSTRAINT appointments_hold_has_expiry CHECK (((status <> 'HOLD'::public.appointment_status) OR (expires_at IS NOT NULL))),
    CONSTRAINT appointments_hold_has_user CHECK (((status <> 'HOLD'::public.appointment_status) OR (user_id IS NOT NULL)))
);


--
-- Name: audit_logs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_logs (
    id bigint NOT NULL,
    user_id uuid,
    action text NOT NULL,
    entity_type text,
    entity_id text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    ip inet,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_logs_action_format CHECK ((action ~ '^[a-z][a-z0-9_.:-]{1,80}$'::text)),
    CONSTRAINT audit_logs_entity_id_length CHECK ((length(entity_id) <= 100)),
    CONSTRAINT audit_logs_entity_type_length CHECK ((length(entity_type) <= 50))
)
PARTITION BY RANGE (created_at);


--
-- Name: audit_logs_default; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_logs_default (
    id bigint NOT NULL,
    user_id uuid,
    action text NOT NULL,
    entity_type text,
    entity_id text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    ip inet,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_logs_action_format CHECK ((action ~ '^[a-z][a-z0-9_.:-]{1,80}$'::text)),
    CONSTRAINT audit_logs_entity_id_length CHECK ((length(entity_id) <= 100)),
    CONSTRAINT audit_logs_entity_type_length CHECK ((length(entity_type) <= 50))
);


--
-- Name: audit_logs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_logs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: feed_polls; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.feed_polls (
    id bigint NOT NULL,
    source text NOT NULL,
    outcome text NOT NULL,
    slots integer,
    inserted integer,
    updated integer,
    error text,
    polled_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT feed_polls_error_length CHECK ((length(error) <= 1000)),
    CONSTRAINT feed_polls_inserted CHECK ((inserted >= 0)),
    CONSTRAINT feed_polls_outcome CHECK ((outcome = ANY (ARRAY['ok'::text, 'malformed'::text, 'unavailable'::text]))),
    CONSTRAINT feed_polls_slots CHECK ((slots >= 0)),
    CONSTRAINT feed_polls_source_format CHECK ((source ~ '^[a-z0-9_-]{1,40}$'::text)),
    CONSTRAINT feed_polls_updated CHECK ((updated >= 0))
);


--
-- Name: feed_polls_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.feed_polls ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.feed_polls_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    user_id uuid NOT NULL,
    key text NOT NULL,
    request text NOT NULL,
    status_code integer NOT NULL,
    response jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT idempotency_keys_key_format CHECK ((key ~ '^[A-Za-z0-9_.:-]{1,200}$'::text)),
    CONSTRAINT idempotency_keys_request_length CHECK ((length(request) <= 300)),
    CONSTRAINT idempotency_keys_status_code CHECK (((status_code >= 200) AND (status_code <= 599)))
);


--
-- Name: metric_count_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.metric_count_changes (
    id bigint NOT NULL,
    metric text NOT NULL,
    labels jsonb NOT NULL,
    value double precision NOT NULL
);


--
-- Name: metric_count_changes_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.metric_count_changes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.metric_count_changes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: metric_counts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.metric_counts (
    metric text NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    value double precision NOT NULL
);


--
-- Name: pgmigrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pgmigrations (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    run_on timestamp without time zone NOT NULL
);


--
-- Name: pgmigrations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.pgmigrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: pgmigrations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.pgmigrations_id_seq OWNED BY public.pgmigrations.id;


--
-- Name: postcodes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.postcodes (
    postcode text NOT NULL COLLATE pg_catalog."C",
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    CONSTRAINT postcodes_latitude CHECK (((latitude >= ('-90'::integer)::double precision) AND (latitude <= (90)::double precision))),
    CONSTRAINT postcodes_longitude CHECK (((longitude >= ('-180'::integer)::double precision) AND (longitude <= (180)::double precision))),
    CONSTRAINT postcodes_shape CHECK ((postcode ~ '^(GIR 0AA|NPT [0-9][A-Z]{2}|[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2})$'::text))
);


--
-- Name: push_subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.push_subscriptions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    endpoint text NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    user_agent text,
    is_active boolean DEFAULT true NOT NULL,
    last_success_at timestamp with time zone,
    last_failure_at timestamp with time zone,
    failure_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT push_subscriptions_auth_format CHECK ((auth ~ '^[A-Za-z0-9_-]{8,64}={0,2}$'::text)),
    CONSTRAINT push_subscriptions_endpoint_format CHECK (((endpoint ~ '^https?://'::text) AND (length(endpoint) <= 2048))),
    CONSTRAINT push_subscriptions_p256dh_format CHECK ((p256dh ~ '^[A-Za-z0-9_-]{20,200}={0,2}$'::text)),
    CONSTRAINT push_subscriptions_user_agent_length CHECK ((length(user_agent) <= 500))
);


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    ip inet,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT sessions_expires_after_created CHECK ((expires_at > created_at)),
    CONSTRAINT sessions_token_hash_length CHECK ((length(token_hash) = 32))
);


--
-- Name: slot_releases; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.slot_releases (
    id bigint NOT NULL,
    slot_id uuid NOT NULL,
    reason text NOT NULL,
    released_at timestamp with time zone DEFAULT now() NOT NULL,
    processed_at timestamp with time zone,
    alerts_created integer,
    CONSTRAINT slot_releases_alerts_created CHECK ((alerts_created >= 0)),
    CONSTRAINT slot_releases_reason_format CHECK ((reason ~ '^[a-z_]{1,40}$'::text))
);


--
-- Name: slot_releases_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.slot_releases ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.slot_releases_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: specialists; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.specialists (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    full_name text NOT NULL,
    service_type text NOT NULL,
    center_id uuid NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT specialists_full_name_length CHECK (((length(btrim(full_name)) >= 1) AND (length(btrim(full_name)) <= 200))),
    CONSTRAINT specialists_service_type_length CHECK (((length(btrim(service_type)) >= 1) AND (length(btrim(service_type)) <= 100)))
);


--
-- Name: system_config; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.system_config (
    key text NOT NULL,
    value jsonb NOT NULL,
    description text,
    updated_by uuid,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT system_config_key_format CHECK ((key ~ '^[a-z][a-z0-9_]{1,60}$'::text))
);


--
-- Name: test_centers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.test_centers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    external_id text,
    name text NOT NULL,
    postcode text NOT NULL,
    address text,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    location public.geography(Point,4326) GENERATED ALWAYS AS ((public.st_setsrid(public.st_makepoint(longitude, latitude), 4326))::public.geography) STORED,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT test_centers_latitude_range CHECK (((latitude >= ('-90'::integer)::double precision) AND (latitude <= (90)::double precision))),
    CONSTRAINT test_centers_longitude_range CHECK (((longitude >= ('-180'::integer)::double precision) AND (longitude <= (180)::double precision))),
    CONSTRAINT test_centers_name_length CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 200))),
    CONSTRAINT test_centers_postcode_length CHECK (((length(btrim(postcode)) >= 2) AND (length(btrim(postcode)) <= 10)))
);


--
-- Name: time_slots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.time_slots (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    specialist_id uuid,
    center_id uuid NOT NULL,
    test_type public.test_type NOT NULL,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    status public.timeslot_status DEFAULT 'AVAILABLE'::public.timeslot_status NOT NULL,
    source text DEFAULT 'operator'::text NOT NULL,
    external_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT time_slots_start_before_end CHECK ((start_time < end_time))
);


--
-- Name: time_slots_local; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.time_slots_local AS
 SELECT s.id,
    s.specialist_id,
    s.center_id,
    s.test_type,
    s.start_time,
    s.end_time,
    s.status,
    s.source,
    s.external_id,
    s.created_at,
    s.updated_at,
    (s.status = 'AVAILABLE'::public.timeslot_status) AS available,
    ((s.start_time AT TIME ZONE 'Europe/London'::text))::date AS date,
    ((s.start_time AT TIME ZONE 'Europe/London'::text))::time without time zone AS "time"
   FROM public.time_slots s;


--
-- Name: user_alerts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_alerts (
    id uuid DEFAULT public.uuid_time_ordered() NOT NULL,
    user_id uuid NOT NULL,
    slot_id uuid NOT NULL,
    preference_id uuid,
    distance_m double precision,
    sent boolean DEFAULT false NOT NULL,
    status public.alert_status DEFAULT 'PENDING'::public.alert_status NOT NULL,
    channel public.notification_method,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    provider_message_id text,
    lease_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    enqueued_at timestamp with time zone,
    priority public.appointment_priority DEFAULT 'NORMAL'::public.appointment_priority NOT NULL,
    message_id uuid,
    release_id bigint,
    CONSTRAINT user_alerts_attempts CHECK ((attempts >= 0)),
    CONSTRAINT user_alerts_distance CHECK ((distance_m >= (0)::double precision)),
    CONSTRAINT user_alerts_sent_at CHECK (((NOT sent) OR (sent_at IS NOT NULL))),
    CONSTRAINT user_alerts_sent_matches_status CHECK ((sent = (status = 'SENT'::public.alert_status)))
)
PARTITION BY RANGE (id);


--
-- Name: user_alerts_default; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_alerts_default (
    id uuid DEFAULT public.uuid_time_ordered() NOT NULL,
    user_id uuid NOT NULL,
    slot_id uuid NOT NULL,
    preference_id uuid,
    distance_m double precision,
    sent boolean DEFAULT false NOT NULL,
    status public.alert_status DEFAULT 'PENDING'::public.alert_status NOT NULL,
    channel public.notification_method,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    provider_message_id text,
    lease_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    enqueued_at timestamp with time zone,
    priority public.appointment_priority DEFAULT 'NORMAL'::public.appointment_priority NOT NULL,
    message_id uuid,
    release_id bigint,
    CONSTRAINT user_alerts_attempts CHECK ((attempts >= 0)),
    CONSTRAINT user_alerts_distance CHECK ((distance_m >= (0)::double precision)),
    CONSTRAINT user_alerts_sent_at CHECK (((NOT sent) OR (sent_at IS NOT NULL))),
    CONSTRAINT user_alerts_sent_matches_status CHECK ((sent = (status = 'SENT'::public.alert_status)))
);


--
-- Name: user_preferences; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_preferences (
    id uuid DEFAULT public.uuid_time_ordered() NOT NULL,
    user_id uuid NOT NULL,
    label text,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    location public.geography(Point,4326) GENERATED ALWAYS AS ((public.st_setsrid(public.st_makepoint(longitude, latitude), 4326))::public.geography) STORED,
    postcode text,
    radius_miles numeric(6,2) DEFAULT 25 NOT NULL,
    notification_method public.notification_method DEFAULT 'email'::public.notification_method NOT NULL,
    preferred_test_types jsonb DEFAULT '["practical"]'::jsonb NOT NULL,
    earliest_date date,
    latest_date date,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    unsubscribe_token text DEFAULT replace(((gen_random_uuid())::text || (gen_random_uuid())::text), '-'::text, ''::text) NOT NULL,
    user_active boolean DEFAULT true NOT NULL,
    user_priority public.appointment_priority DEFAULT 'NORMAL'::public.appointment_priority NOT NULL,
    location_precision text,
    CONSTRAINT user_preferences_date_window CHECK (((earliest_date IS NULL) OR (latest_date IS NULL) OR (earliest_date <= latest_date))),
    CONSTRAINT user_preferences_label_length CHECK ((length(label) <= 100)),
    CONSTRAINT user_preferences_latitude_range CHECK (((latitude >= ('-90'::integer)::double precision) AND (latitude <= (90)::double precision))),
    CONSTRAINT user_preferences_location_precision CHECK ((location_precision = ANY (ARRAY['postcode'::text, 'outcode'::text]))),
    CONSTRAINT user_preferences_longitude_range CHECK (((longitude >= ('-180'::integer)::double precision) AND (longitude <= (180)::double precision))),
    CONSTRAINT user_preferences_postcode_length CHECK ((length(postcode) <= 10)),
    CONSTRAINT user_preferences_precision_with_postcode CHECK (((location_precision IS NULL) = (postcode IS NULL))),
    CONSTRAINT user_preferences_radius_range CHECK (((radius_miles > (0)::numeric) AND (radius_miles <= (100)::numeric))),
    CONSTRAINT user_preferences_test_types CHECK (((jsonb_typeof(preferred_test_types) = 'array'::text) AND (jsonb_array_length(preferred_test_types) >= 1) AND (preferred_test_types <@ '["practical", "theory"]'::jsonb)))
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    first_name text,
    last_name text,
    role public.user_role DEFAULT 'CLIENT'::public.user_role NOT NULL,
    priority public.appointment_priority DEFAULT 'NORMAL'::public.appointment_priority NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    quiet_hours_start time without time zone,
    quiet_hours_end time without time zone,
    email_verified_at timestamp with time zone,
    alert_daily_cap integer,
    CONSTRAINT users_alert_daily_cap CHECK (((alert_daily_cap >= 1) AND (alert_daily_cap <= 1000))),
    CONSTRAINT users_email_format CHECK ((email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$'::text)),
    CONSTRAINT users_email_length CHECK ((length(email) <= 254)),
    CONSTRAINT users_first_name_length CHECK ((length(first_name) <= 100)),
    CONSTRAINT users_last_name_length CHECK ((length(last_name) <= 100)),
    CONSTRAINT users_quiet_hours_pair CHECK ((((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)) AND ((quiet_hours_start IS NULL) OR (quiet_hours_start <> quiet_hours_end))))
);


--
-- Name: appointment_events_default; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointment_events ATTACH PARTITION public.appointment_events_default DEFAULT;


--
-- Name: audit_logs_default; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_logs ATTACH PARTITION public.audit_logs_default DEFAULT;


--
-- Name: user_alerts_default; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_alerts ATTACH PARTITION public.user_alerts_default DEFAULT;


--
-- Name: pgmigrations id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pgmigrations ALTER COLUMN id SET DEFAULT nextval('public.pgmigrations_id_seq'::regclass);


--
-- Name: account_tokens account_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_tokens
    ADD CONSTRAINT account_tokens_pkey PRIMARY KEY (id);


--
-- Name: account_tokens account_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_tokens
    ADD CONSTRAINT account_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: alert_messages alert_messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_messages
    ADD CONSTRAINT alert_messages_pkey PRIMARY KEY (id);


--
-- Name: appointment_events appointment_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointment_events
    ADD CONSTRAINT appointment_events_pkey PRIMARY KEY (id, created_at);


--
-- Name: appointment_events_default appointment_events_default_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointment_events_default
    ADD CONSTRAINT appointment_events_default_pkey PRIMARY KEY (id, created_at);


--
-- Name: appointments appointments_one_per_test_type; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_one_per_test_type EXCLUDE USING gist (user_id WITH =, test_type WITH =, tstzrange(LEAST(created_at, upper(slot_period)), upper(slot_period)) WITH &&) WHERE (((status = ANY (ARRAY['HOLD'::public.appointment_status, 'CONFIRMED'::public.appointment_status])) AND (NOT predates_booking_limit)));


--
-- Name: appointments appointments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_pkey PRIMARY KEY (id);


--
-- Name: appointments appointments_user_no_overlap; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_user_no_overlap EXCLUDE USING gist (user_id WITH =, slot_period WITH &&) WHERE ((status = ANY (ARRAY['HOLD'::public.appointment_status, 'CONFIRMED'::public.appointment_status])));


--
-- Name: audit_logs audit_logs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_logs
    ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at);


--
-- Name: audit_logs_default audit_logs_default_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_logs_default
    ADD CONSTRAINT audit_logs_default_pkey PRIMARY KEY (id, created_at);


--
-- Name: feed_polls feed_polls_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.feed_polls
    ADD CONSTRAINT feed_polls_pkey PRIMARY KEY (id);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key);


--
-- Name: metric_count_changes metric_count_changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.metric_count_changes
    ADD CONSTRAINT metric_count_changes_pkey PRIMARY KEY (id);


--
-- Name: metric_counts metric_counts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.metric_counts
    ADD CONSTRAINT metric_counts_pkey PRIMARY KEY (metric, labels);


--
-- Name: pgmigrations pgmigrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pgmigrations
    ADD CONSTRAINT pgmigrations_pkey PRIMARY KEY (id);


--
-- Name: postcodes postcodes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.postcodes
    ADD CONSTRAINT postcodes_pkey PRIMARY KEY (postcode);


--
-- Name: push_subscriptions push_subscriptions_endpoint_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_endpoint_key UNIQUE (endpoint);


--
-- Name: push_subscriptions push_subscriptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);


--
-- Name: slot_releases slot_releases_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.slot_releases
    ADD CONSTRAINT slot_releases_pkey PRIMARY KEY (id);


--
-- Name: specialists specialists_id_center_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.specialists
    ADD CONSTRAINT specialists_id_center_key UNIQUE (id, center_id);


--
-- Name: specialists specialists_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.specialists
    ADD CONSTRAINT specialists_pkey PRIMARY KEY (id);


--
-- Name: system_config system_config_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.system_config
    ADD CONSTRAINT system_config_pkey PRIMARY KEY (key);


--
-- Name: test_centers test_centers_external_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.test_centers
    ADD CONSTRAINT test_centers_external_id_key UNIQUE (external_id);


--
-- Name: test_centers test_centers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.test_centers
    ADD CONSTRAINT test_centers_pkey PRIMARY KEY (id);


--
-- Name: time_slots time_slots_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.time_slots
    ADD CONSTRAINT time_slots_pkey PRIMARY KEY (id);


--
-- Name: time_slots time_slots_source_external_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.time_slots
    ADD CONSTRAINT time_slots_source_external_id_key UNIQUE (source, external_id);


--
-- Name: time_slots time_slots_specialist_no_overlap; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.time_slots
    ADD CONSTRAINT time_slots_specialist_no_overlap EXCLUDE USING gist (specialist_id WITH =, tstzrange(start_time, end_time) WITH &&) WHERE ((specialist_id IS NOT NULL));


--
-- Name: user_alerts user_alerts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_alerts
    ADD CONSTRAINT user_alerts_pkey PRIMARY KEY (id);


--
-- Name: user_alerts_default user_alerts_default_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_alerts_default
    ADD CONSTRAINT user_alerts_default_pkey PRIMARY KEY (id);


--
-- Name: user_preferences user_preferences_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_preferences
    ADD CONSTRAINT user_preferences_pkey PRIMARY KEY (id);


--
-- Name: user_preferences user_preferences_unsubscribe_token_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_preferences
    ADD CONSTRAINT user_preferences_unsubscribe_token_key UNIQUE (unsubscribe_token);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: watch_coverage watch_coverage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.watch_coverage
    ADD CONSTRAINT watch_coverage_pkey PRIMARY KEY (preference_id, center_id, test_type);


--
-- Name: account_tokens_stale; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX account_tokens_stale ON public.account_tokens USING btree (expires_at);


--
-- Name: account_tokens_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX account_tokens_user ON public.account_tokens USING btree (user_id, purpose);


--
-- Name: alert_messages_one_open_digest; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX alert_messages_one_open_digest ON public.alert_messages USING btree (user_id) WHERE ((kind = 'digest'::text) AND (status = 'PENDING'::public.alert_status));


--
-- Name: alert_messages_unfinished; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_messages_unfinished ON public.alert_messages USING btree (send_after) WHERE (status = ANY (ARRAY['PENDING'::public.alert_status, 'SENDING'::public.alert_status]));


--
-- Name: alert_messages_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alert_messages_user ON public.alert_messages USING btree (user_id, created_at);


--
-- Name: appointment_events_appointment; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX appointment_events_appointment ON ONLY public.appointment_events USING btree (appointment_id, id);


--
-- Name: appointment_events_default_appointment_id_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX appointment_events_default_appointment_id_id_idx ON public.appointment_events_default USING btree (appointment_id, id);


--
-- Name: appointments_hold_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX appointments_hold_expiry ON public.appointments USING btree (expires_at) WHERE (status = 'HOLD'::public.appointment_status);


--
-- Name: appointments_one_active_per_slot; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX appointments_one_active_per_slot ON public.appointments USING btree (slot_id) WHERE (status = ANY (ARRAY['HOLD'::public.appointment_status, 'CONFIRMED'::public.appointment_status]));


--
-- Name: appointments_one_hold_per_user; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX appointments_one_hold_per_user ON public.appointments USING btree (user_id) WHERE (status = 'HOLD'::public.appointment_status);


--
-- Name: appointments_slot; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX appointments_slot ON public.appointments USING btree (slot_id);


--
-- Name: appointments_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX appointments_user ON public.appointments USING btree (user_id, created_at DESC);


--
-- Name: audit_logs_action; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_action ON ONLY public.audit_logs USING btree (action, created_at DESC);


--
-- Name: audit_logs_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_created ON ONLY public.audit_logs USING btree (created_at DESC);


--
-- Name: audit_logs_default_action_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_default_action_created_at_idx ON public.audit_logs_default USING btree (action, created_at DESC);


--
-- Name: audit_logs_default_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_default_created_at_idx ON public.audit_logs_default USING btree (created_at DESC);


--
-- Name: audit_logs_entity; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_entity ON ONLY public.audit_logs USING btree (entity_type, entity_id);


--
-- Name: audit_logs_default_entity_type_entity_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_default_entity_type_entity_id_idx ON public.audit_logs_default USING btree (entity_type, entity_id);


--
-- Name: audit_logs_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_user ON ONLY public.audit_logs USING btree (user_id, created_at DESC);


--
-- Name: audit_logs_default_user_id_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_default_user_id_created_at_idx ON public.audit_logs_default USING btree (user_id, created_at DESC);


--
-- Name: feed_polls_source; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX feed_polls_source ON public.feed_polls USING btree (source, polled_at DESC);


--
-- Name: idempotency_keys_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_created ON public.idempotency_keys USING btree (created_at);


--
-- Name: push_subscriptions_user_active; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX push_subscriptions_user_active ON public.push_subscriptions USING btree (user_id) WHERE is_active;


--
-- Name: sessions_stale; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_stale ON public.sessions USING btree (COALESCE(revoked_at, expires_at));


--
-- Name: sessions_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user ON public.sessions USING btree (user_id);


--
-- Name: slot_releases_slot; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX slot_releases_slot ON public.slot_releases USING btree (slot_id);


--
-- Name: slot_releases_unprocessed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX slot_releases_unprocessed ON public.slot_releases USING btree (id) WHERE (processed_at IS NULL);


--
-- Name: specialists_center; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX specialists_center ON public.specialists USING btree (center_id);


--
-- Name: test_centers_location_gist; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX test_centers_location_gist ON public.test_centers USING gist (location);


--
-- Name: time_slots_available; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX time_slots_available ON public.time_slots USING btree (center_id, test_type, start_time) WHERE (status = 'AVAILABLE'::public.timeslot_status);


--
-- Name: time_slots_start; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX time_slots_start ON public.time_slots USING btree (start_time);


--
-- Name: user_alerts_unfinished; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_alerts_unfinished ON ONLY public.user_alerts USING btree (created_at) WHERE (status = ANY (ARRAY['PENDING'::public.alert_status, 'SENDING'::public.alert_status]));


--
-- Name: user_alerts_default_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_alerts_default_created_at_idx ON public.user_alerts_default USING btree (created_at) WHERE (status = ANY (ARRAY['PENDING'::public.alert_status, 'SENDING'::public.alert_status]));


--
-- Name: user_alerts_message; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_alerts_message ON ONLY public.user_alerts USING btree (message_id) WHERE (message_id IS NOT NULL);


--
-- Name: user_alerts_default_message_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_alerts_default_message_id_idx ON public.user_alerts_default USING btree (message_id) WHERE (message_id IS NOT NULL);


--
-- Name: user_alerts_default_slot_user_release_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX user_alerts_default_slot_user_release_key ON public.user_alerts_default USING btree (slot_id, user_id, release_id) NULLS NOT DISTINCT;


--
-- Name: user_alerts_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_alerts_user ON ONLY public.user_alerts USING btree (user_id, id);


--
-- Name: user_alerts_default_user_id_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_alerts_default_user_id_id_idx ON public.user_alerts_default USING btree (user_id, id);


--
-- Name: user_preferences_location_active; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_preferences_location_active ON public.user_preferences USING gist (location) WHERE is_active;


--
-- Name: user_preferences_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_preferences_user ON public.user_preferences USING btree (user_id);


--
-- Name: users_email_lower_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_email_lower_key ON public.users USING btree (lower(email));


--
-- Name: watch_coverage_match; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX watch_coverage_match ON public.watch_coverage USING btree (center_id, test_type, latest_date) INCLUDE (earliest_date, preference_id, user_id, distance_m, notification_method, user_priority);


--
-- Name: appointment_events_default_appointment_id_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.appointment_events_appointment ATTACH PARTITION public.appointment_events_default_appointment_id_id_idx;


--
-- Name: appointment_events_default_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.appointment_events_pkey ATTACH PARTITION public.appointment_events_default_pkey;


--
-- Name: audit_logs_default_action_created_at_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.audit_logs_action ATTACH PARTITION public.audit_logs_default_action_created_at_idx;


--
-- Name: audit_logs_default_created_at_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.audit_logs_created ATTACH PARTITION public.audit_logs_default_created_at_idx;


--
-- Name: audit_logs_default_entity_type_entity_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.audit_logs_entity ATTACH PARTITION public.audit_logs_default_entity_type_entity_id_idx;


--
-- Name: audit_logs_default_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.audit_logs_pkey ATTACH PARTITION public.audit_logs_default_pkey;


--
-- Name: audit_logs_default_user_id_created_at_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.audit_logs_user ATTACH PARTITION public.audit_logs_default_user_id_created_at_idx;


--
-- Name: user_alerts_default_created_at_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.user_alerts_unfinished ATTACH PARTITION public.user_alerts_default_created_at_idx;


--
-- Name: user_alerts_default_message_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.user_alerts_message ATTACH PARTITION public.user_alerts_default_message_id_idx;


--
-- Name: user_alerts_default_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.user_alerts_pkey ATTACH PARTITION public.user_alerts_default_pkey;


--
-- Name: user_alerts_default_user_id_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.user_alerts_user ATTACH PARTITION public.user_alerts_default_user_id_id_idx;


--
-- Name: alert_messages alert_messages_count_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_messages_count_delete AFTER DELETE ON public.alert_messages REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.alert_messages_count();


--
-- Name: alert_messages alert_messages_count_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_messages_count_insert AFTER INSERT ON public.alert_messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.alert_messages_count();


--
-- Name: alert_messages alert_messages_count_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER alert_messages_count_update AFTER UPDATE ON public.alert_messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.alert_messages_count();


--
-- Name: appointment_events appointment_events_count_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER appointment_events_count_insert AFTER INSERT ON public.appointment_events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.appointment_events_count();


--
-- Name: appointments appointments_slot_period; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER appointments_slot_period BEFORE INSERT OR UPDATE OF slot_id ON public.appointments FOR EACH ROW EXECUTE FUNCTION public.appointments_copy_slot_period();


--
-- Name: appointments appointments_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER appointments_updated_at BEFORE UPDATE ON public.appointments FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: slot_releases slot_releases_count_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER slot_releases_count_insert AFTER INSERT ON public.slot_releases REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.slot_releases_count();


--
-- Name: slot_releases slot_releases_count_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER slot_releases_count_update AFTER UPDATE ON public.slot_releases REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.slot_releases_count();


--
-- Name: test_centers test_centers_cover_deleted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER test_centers_cover_deleted AFTER DELETE ON public.test_centers REFERENCING OLD TABLE AS old_centres FOR EACH STATEMENT EXECUTE FUNCTION public.test_centers_cover_changed();


--
-- Name: test_centers test_centers_cover_inserted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER test_centers_cover_inserted AFTER INSERT ON public.test_centers REFERENCING NEW TABLE AS new_centres FOR EACH STATEMENT EXECUTE FUNCTION public.test_centers_cover_changed();


--
-- Name: test_centers test_centers_cover_truncated; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER test_centers_cover_truncated AFTER TRUNCATE ON public.test_centers FOR EACH STATEMENT EXECUTE FUNCTION public.watch_coverage_truncate();


--
-- Name: test_centers test_centers_cover_updated; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER test_centers_cover_updated AFTER UPDATE ON public.test_centers REFERENCING OLD TABLE AS old_centres NEW TABLE AS new_centres FOR EACH STATEMENT EXECUTE FUNCTION public.test_centers_cover_changed();


--
-- Name: test_centers test_centers_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER test_centers_updated_at BEFORE UPDATE ON public.test_centers FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: time_slots time_slots_delete_alerts; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER time_slots_delete_alerts AFTER DELETE ON public.time_slots FOR EACH ROW EXECUTE FUNCTION public.time_slots_delete_alerts();


--
-- Name: time_slots time_slots_period_changed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER time_slots_period_changed AFTER UPDATE OF start_time, end_time, test_type ON public.time_slots FOR EACH ROW WHEN (((old.start_time IS DISTINCT FROM new.start_time) OR (old.end_time IS DISTINCT FROM new.end_time) OR (old.test_type IS DISTINCT FROM new.test_type))) EXECUTE FUNCTION public.time_slots_sync_appointment_period();


--
-- Name: time_slots time_slots_release; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER time_slots_release AFTER INSERT OR UPDATE OF status ON public.time_slots FOR EACH ROW EXECUTE FUNCTION public.slot_releases_capture();


--
-- Name: time_slots time_slots_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER time_slots_updated_at BEFORE UPDATE ON public.time_slots FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: user_alerts user_alerts_count_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_alerts_count_delete AFTER DELETE ON public.user_alerts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.user_alerts_count();


--
-- Name: user_alerts user_alerts_count_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_alerts_count_insert AFTER INSERT ON public.user_alerts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.user_alerts_count();


--
-- Name: user_alerts user_alerts_count_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_alerts_count_update AFTER UPDATE ON public.user_alerts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.user_alerts_count();


--
-- Name: user_alerts user_alerts_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_alerts_updated_at BEFORE UPDATE ON public.user_alerts FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: user_preferences user_preferences_cover_deleted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_preferences_cover_deleted AFTER DELETE ON public.user_preferences REFERENCING OLD TABLE AS old_watches FOR EACH STATEMENT EXECUTE FUNCTION public.user_preferences_cover_deleted();


--
-- Name: user_preferences user_preferences_cover_inserted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_preferences_cover_inserted AFTER INSERT ON public.user_preferences REFERENCING NEW TABLE AS new_watches FOR EACH STATEMENT EXECUTE FUNCTION public.user_preferences_cover_inserted();


--
-- Name: user_preferences user_preferences_cover_truncated; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_preferences_cover_truncated AFTER TRUNCATE ON public.user_preferences FOR EACH STATEMENT EXECUTE FUNCTION public.watch_coverage_truncate();


--
-- Name: user_preferences user_preferences_cover_updated; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_preferences_cover_updated AFTER UPDATE ON public.user_preferences REFERENCING OLD TABLE AS old_watches NEW TABLE AS new_watches FOR EACH STATEMENT EXECUTE FUNCTION public.user_preferences_cover_updated();


--
-- Name: user_preferences user_preferences_forget_alerts; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_preferences_forget_alerts AFTER DELETE ON public.user_preferences FOR EACH ROW EXECUTE FUNCTION public.user_preferences_forget_alerts();


--
-- Name: user_preferences user_preferences_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_preferences_updated_at BEFORE UPDATE ON public.user_preferences FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: user_preferences user_preferences_user_active; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_preferences_user_active BEFORE INSERT OR UPDATE OF user_id, user_active, user_priority ON public.user_preferences FOR EACH ROW EXECUTE FUNCTION public.user_preferences_take_user_active();


--
-- Name: users users_active_to_preferences; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_active_to_preferences AFTER UPDATE OF is_active, priority, email_verified_at ON public.users FOR EACH ROW WHEN (((old.is_active IS DISTINCT FROM new.is_active) OR (old.priority IS DISTINCT FROM new.priority) OR ((old.email_verified_at IS NULL) IS DISTINCT FROM (new.email_verified_at IS NULL)))) EXECUTE FUNCTION public.users_pass_active_to_preferences();


--
-- Name: users users_updated_at; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_updated_at BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();


--
-- Name: account_tokens account_tokens_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_tokens
    ADD CONSTRAINT account_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: alert_messages alert_messages_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alert_messages
    ADD CONSTRAINT alert_messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: appointment_events appointment_events_actor_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE public.appointment_events
    ADD CONSTRAINT appointment_events_actor_user_id_fkey FOREIGN KEY (actor_user_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: appointment_events appointment_events_appointment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE public.appointment_events
    ADD CONSTRAINT appointment_events_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES public.appointments(id) ON DELETE CASCADE;


--
-- Name: appointments appointments_slot_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_slot_id_fkey FOREIGN KEY (slot_id) REFERENCES public.time_slots(id) ON DELETE RESTRICT;


--
-- Name: appointments appointments_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: audit_logs audit_logs_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE public.audit_logs
    ADD CONSTRAINT audit_logs_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: idempotency_keys idempotency_keys_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: push_subscriptions push_subscriptions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: slot_releases slot_releases_slot_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.slot_releases
    ADD CONSTRAINT slot_releases_slot_id_fkey FOREIGN KEY (slot_id) REFERENCES public.time_slots(id) ON DELETE CASCADE;


--
-- Name: specialists specialists_center_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.specialists
    ADD CONSTRAINT specialists_center_id_fkey FOREIGN KEY (center_id) REFERENCES public.test_centers(id) ON DELETE RESTRICT;


--
-- Name: system_config system_config_updated_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.system_config
    ADD CONSTRAINT system_config_updated_by_fkey FOREIGN KEY (updated_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: time_slots time_slots_center_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.time_slots
    ADD CONSTRAINT time_slots_center_id_fkey FOREIGN KEY (center_id) REFERENCES public.test_centers(id) ON DELETE RESTRICT;


--
-- Name: time_slots time_slots_specialist_center_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.time_slots
    ADD CONSTRAINT time_slots_specialist_center_fkey FOREIGN KEY (specialist_id, center_id) REFERENCES public.specialists(id, center_id) ON DELETE RESTRICT;


--
-- Name: user_alerts user_alerts_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE public.user_alerts
    ADD CONSTRAINT user_alerts_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.alert_messages(id) ON DELETE SET NULL;


--
-- Name: user_alerts user_alerts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE public.user_alerts
    ADD CONSTRAINT user_alerts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: user_preferences user_preferences_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_preferences
    ADD CONSTRAINT user_preferences_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;
