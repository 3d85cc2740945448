-- Counts for /metrics kept as rows change, so that a scrape reads a few dozen rows instead
-- of counting user_alerts, alert_messages, appointment_events and slot_releases, which
-- only grow.
--
-- 1. Statement-level triggers with transition tables append what each statement changed
--    (per series: +1 / -1 for a gauge, an observation for a histogram) to
--    metric_count_changes. They only INSERT, so concurrent writers never wait for each
--    other on a counter row, and there is no lock order to deadlock on. A statement that
--    changes nothing counted (a lease renewed, an attempt counted) appends nothing.
-- 2. A maintenance task folds the changes into metric_counts, one row per series; a
--    scrape reads metric_counts plus the changes not yet folded.
-- 3. What a row contributes is one function per table (user_alert_series, ...): a gauge
--    series (alerts and messages by status and channel) goes down when its row changes or
--    is deleted; a counter series (booking events, the latency histograms) never goes down
--    on a DELETE, so erasing an account does not rewind a counter.
-- 4. Histograms are kept per bucket, not cumulated: an observation adds 1 to the first
--    bucket (in seconds) it fits, or to '+Inf'; the scrape cumulates. The bucket bounds
--    are LATENCY_BUCKETS in src/metrics/collectors.ts.
-- 5. The delivery latency of a digested alert is counted when the later of the two rows
--    says so: the alert is DIGESTED and its message is SENT. Each side's function looks
--    the other up by key (alert_messages by id, user_alerts by message_id).

-- Up Migration
CREATE TABLE metric_counts (
  metric text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  value  double precision NOT NULL,
  PRIMARY KEY (metric, labels)
);

CREATE TABLE metric_count_changes (
  id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  metric text NOT NULL,
  labels jsonb NOT NULL,
  value  double precision NOT NULL
);

-- one observation of a latency histogram `name` (seconds): its bucket, its sum, its count
CREATE FUNCTION latency_series(name text, took interval)
RETURNS TABLE (metric text, labels jsonb, value double precision, gauge boolean)
LANGUAGE sql STABLE AS $$
  SELECT name || '_bucket',
         jsonb_build_object('le', coalesce(
           (SELECT min(b)::text FROM unnest('{0.05,0.1,0.25,0.5,1,2,5,10,30,60,300}'::float8[]) b WHERE extract(epoch FROM took) <= b),
           '+Inf')),
         1::float8, false
  UNION ALL SELECT name || '_sum', '{}'::jsonb, extract(epoch FROM took)::float8, false
  UNION ALL SELECT name || '_count', '{}'::jsonb, 1::float8, false
$$;

CREATE FUNCTION user_alert_series(status alert_status, channel notification_method, created_at timestamptz, sent_at timestamptz, message_id uuid)
RETURNS TABLE (metric text, labels jsonb, value double precision, gauge boolean)
LANGUAGE sql STABLE AS $$
  SELECT 'alerts', jsonb_build_object('status', status, 'channel', coalesce(channel::text, 'none')), 1::float8, true
  UNION ALL
  SELECT l.* FROM latency_series('delivery_latency_seconds', sent_at - created_at) l WHERE status = 'SENT'
  UNION ALL
  -- the arguments by their function's name: alert_messages has columns of the same names
  SELECT l.* FROM alert_messages m, latency_series('delivery_latency_seconds', m.sent_at - user_alert_series.created_at) l
   WHERE user_alert_series.status = 'DIGESTED' AND m.id = user_alert_series.message_id AND m.status = 'SENT'
$$;

CREATE FUNCTION alert_message_series(id uuid, kind text, status alert_status, channel notification_method, sent_at timestamptz)
RETURNS TABLE (metric text, labels jsonb, value double precision, gauge boolean)
LANGUAGE sql STABLE AS $$
  SELECT 'alert_messages', jsonb_build_object('kind', kind, 'status', status, 'channel', coalesce(channel::text, 'none')), 1::float8, true
  UNION ALL
  SELECT l.* FROM user_alerts a, latency_series('delivery_latency_seconds', alert_message_series.sent_at - a.created_at) l
   WHERE alert_message_series.status = 'SENT' AND a.message_id = alert_message_series.id AND a.status = 'DIGESTED'
$$;

CREATE FUNCTION appointment_event_series(event_type text)
RETURNS TABLE (metric text, labels jsonb, value double precision, gauge boolean)
LANGUAGE sql STABLE AS $$
  SELECT 'appointment_events', jsonb_build_object('event', event_type), 1::float8, false
$$;

CREATE FUNCTION slot_release_series(released_at timestamptz, processed_at timestamptz)
RETURNS TABLE (metric text, labels jsonb, value double precision, gauge boolean)
LANGUAGE sql STABLE AS $$
  SELECT l.* FROM latency_series('match_latency_seconds', processed_at - released_at) l WHERE processed_at IS NOT NULL
$$;

-- One trigger function per table, in static SQL, so that PL/pgSQL keeps each statement's
-- plan for the session: a sender's one-row UPDATE is not planned anew each time. JIT is
-- off in them: the planner may take a transition table for as big as the table (after a
-- bulk load, before autovacuum), and compiling a few-row aggregate cost 200 ms a statement. The
-- series functions take columns, not the whole row: PostgreSQL 15 fails to plan a
-- whole-row argument to an inlined set-returning function. The transition tables are
-- new_rows and old_rows; each trigger below declares the ones its event has.
CREATE FUNCTION user_alerts_count() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
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

CREATE FUNCTION alert_messages_count() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
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

CREATE FUNCTION appointment_events_count() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  INSERT INTO metric_count_changes (metric, labels, value)
  SELECT s.metric, s.labels, sum(s.value) FROM new_rows r, appointment_event_series(r.event_type) s GROUP BY 1, 2;
  RETURN NULL;
END $$;

CREATE FUNCTION slot_releases_count() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
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

CREATE TRIGGER user_alerts_count_insert AFTER INSERT ON user_alerts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
CREATE TRIGGER user_alerts_count_update AFTER UPDATE ON user_alerts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();
CREATE TRIGGER user_alerts_count_delete AFTER DELETE ON user_alerts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_alerts_count();

CREATE TRIGGER alert_messages_count_insert AFTER INSERT ON alert_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_messages_count();
CREATE TRIGGER alert_messages_count_update AFTER UPDATE ON alert_messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_messages_count();
CREATE TRIGGER alert_messages_count_delete AFTER DELETE ON alert_messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_messages_count();

CREATE TRIGGER appointment_events_count_insert AFTER INSERT ON appointment_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION appointment_events_count();

CREATE TRIGGER slot_releases_count_insert AFTER INSERT ON slot_releases
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION slot_releases_count();
CREATE TRIGGER slot_releases_count_update AFTER UPDATE ON slot_releases
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION slot_releases_count();

-- what the tables hold now (the triggers above see every later change: creating them
-- locked the tables against writes until this transaction commits). A digested alert's
-- latency is counted once, from the alert's side.
INSERT INTO metric_counts (metric, labels, value)
SELECT metric, labels, sum(value) FROM (
  SELECT s.metric, s.labels, s.value FROM user_alerts r, user_alert_series(r.status, r.channel, r.created_at, r.sent_at, r.message_id) s
  UNION ALL SELECT s.metric, s.labels, s.value FROM alert_messages r, alert_message_series(r.id, r.kind, r.status, r.channel, r.sent_at) s WHERE s.gauge
  UNION ALL SELECT s.metric, s.labels, s.value FROM appointment_events r, appointment_event_series(r.event_type) s
  UNION ALL SELECT s.metric, s.labels, s.value FROM slot_releases r, slot_release_series(r.released_at, r.processed_at) s
) c GROUP BY 1, 2;

-- Down Migration
DROP TRIGGER IF EXISTS slot_releases_count_update ON slot_releases;
DROP TRIGGER IF EXISTS slot_releases_count_insert ON slot_releases;
DROP TRIGGER IF EXISTS appointment_events_count_insert ON appointment_events;
DROP TRIGGER IF EXISTS alert_messages_count_delete ON alert_messages;
DROP TRIGGER IF EXISTS alert_messages_count_update ON alert_messages;
DROP TRIGGER IF EXISTS alert_messages_count_insert ON alert_messages;
DROP TRIGGER IF EXISTS user_alerts_count_delete ON user_alerts;
DROP TRIGGER IF EXISTS user_alerts_count_update ON user_alerts;
DROP TRIGGER IF EXISTS user_alerts_count_insert ON user_alerts;
DROP FUNCTION IF EXISTS slot_releases_count();
DROP FUNCTION IF EXISTS appointment_events_count();
DROP FUNCTION IF EXISTS alert_messages_count();
DROP FUNCTION IF EXISTS user_alerts_count();
DROP FUNCTION IF EXISTS slot_release_series(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS appointment_event_series(text);
DROP FUNCTION IF EXISTS alert_message_series(uuid, text, alert_status, notification_method, timestamptz);
DROP FUNCTION IF EXISTS user_alert_series(alert_status, notification_method, timestamptz, timestamptz, uuid);
DROP FUNCTION IF EXISTS latency_series(text, interval);
DROP TABLE IF EXISTS metric_count_changes;
DROP TABLE IF EXISTS metric_counts;
