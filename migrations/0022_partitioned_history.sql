-- appointment_events and audit_logs partitioned by month of created_at, so that the
-- retention task drops a month at a time (event_retention_days, audit_retention_days:
-- both two years by default, see src/settings/definitions.ts for why).
--
-- 1. The key is created_at: nothing reads these tables by id alone (a booking's history
--    is read by appointment_id, the audit log by time, user, action or entity), and both
--    are written once and never moved, so created_at is when the row was made. The
--    primary key must hold the partition key: (id, created_at). The ids still come from
--    one identity sequence, so they stay unique on their own.
-- 2. Months, not weeks: at two years that is about 25 partitions, which a booking's
--    history (by appointment_id, not pruned) probes, and a month kept too long is nothing
--    against two years.
-- 3. A DEFAULT partition takes a created_at no partition covers (as with user_alerts, see
--    migration 0021); ensure_partitions moves its rows when it makes their partition.
-- 4. Existing rows move over, and the new tables take the old ones' names, constraints,
--    indexes, foreign keys, triggers and sequences (continuing where they were). This
--    migration makes the months existing rows need; on an empty database none.

-- Up Migration
ALTER TABLE appointment_events RENAME TO appointment_events_unpartitioned;
ALTER INDEX appointment_events_pkey RENAME TO appointment_events_unpartitioned_pkey;
ALTER INDEX appointment_events_appointment RENAME TO appointment_events_unpartitioned_appointment;
ALTER SEQUENCE appointment_events_id_seq RENAME TO appointment_events_unpartitioned_id_seq;

CREATE TABLE appointment_events (
  id             bigint GENERATED ALWAYS AS IDENTITY,
  appointment_id uuid NOT NULL,
  event_type     text NOT NULL CONSTRAINT appointment_events_type_format CHECK (event_type ~ '^[A-Z][A-Z_]{1,40}$'),
  from_status    appointment_status,
  to_status      appointment_status,
  actor_user_id  uuid,
  actor          text NOT NULL DEFAULT 'system' CONSTRAINT appointment_events_actor CHECK (actor IN ('user', 'operator', 'admin', 'system')),
  details        jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (created_at);
CREATE TABLE appointment_events_default PARTITION OF appointment_events DEFAULT;
SELECT ensure_partitions('appointment_events', 'month', greatest(coalesce(min(created_at), now()), now() - interval '10 years'), now() + interval '2 months')
  FROM appointment_events_unpartitioned;
INSERT INTO appointment_events (id, appointment_id, event_type, from_status, to_status, actor_user_id, actor, details, created_at)
OVERRIDING SYSTEM VALUE
SELECT id, appointment_id, event_type, from_status, to_status, actor_user_id, actor, details, created_at FROM appointment_events_unpartitioned;
SELECT setval('appointment_events_id_seq', max(id)) FROM appointment_events_unpartitioned HAVING max(id) IS NOT NULL;
DROP TABLE appointment_events_unpartitioned;
ALTER TABLE appointment_events ADD CONSTRAINT appointment_events_pkey PRIMARY KEY (id, created_at);
CREATE INDEX appointment_events_appointment ON appointment_events (appointment_id, id);
ALTER TABLE appointment_events ADD CONSTRAINT appointment_events_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES appointments (id) ON DELETE CASCADE;
ALTER TABLE appointment_events ADD CONSTRAINT appointment_events_actor_user_id_fkey FOREIGN KEY (actor_user_id) REFERENCES users (id) ON DELETE SET NULL;
CREATE TRIGGER appointment_events_count_insert AFTER INSERT ON appointment_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION appointment_events_count();

ALTER TABLE audit_logs RENAME TO audit_logs_unpartitioned;
ALTER INDEX audit_logs_pkey RENAME TO audit_logs_unpartitioned_pkey;
ALTER INDEX audit_logs_created RENAME TO audit_logs_unpartitioned_created;
ALTER INDEX audit_logs_user RENAME TO audit_logs_unpartitioned_user;
ALTER INDEX audit_logs_action RENAME TO audit_logs_unpartitioned_action;
ALTER INDEX audit_logs_entity RENAME TO audit_logs_unpartitioned_entity;
ALTER SEQUENCE audit_logs_id_seq RENAME TO audit_logs_unpartitioned_id_seq;

CREATE TABLE audit_logs (
  id          bigint GENERATED ALWAYS AS IDENTITY,
  user_id     uuid,
  action      text NOT NULL CONSTRAINT audit_logs_action_format CHECK (action ~ '^[a-z][a-z0-9_.:-]{1,80}$'),
  entity_type text CONSTRAINT audit_logs_entity_type_length CHECK (length(entity_type) <= 50),
  entity_id   text CONSTRAINT audit_logs_entity_id_length CHECK (length(entity_id) <= 100),
  details     jsonb NOT NULL DEFAULT '{}',
  ip          inet,
  created_at  timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (created_at);
CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;
SELECT ensure_partitions('audit_logs', 'month', greatest(coalesce(min(created_at), now()), now() - interval '10 years'), now() + interval '2 months')
  FROM audit_logs_unpartitioned;
INSERT INTO audit_logs (id, user_id, action, entity_type, entity_id, details, ip, created_at)
OVERRIDING SYSTEM VALUE
SELECT id, user_id, action, entity_type, entity_id, details, ip, created_at FROM audit_logs_unpartitioned;
SELECT setval('audit_logs_id_seq', max(id)) FROM audit_logs_unpartitioned HAVING max(id) IS NOT NULL;
DROP TABLE audit_logs_unpartitioned;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at);
CREATE INDEX audit_logs_created ON audit_logs (created_at DESC);
CREATE INDEX audit_logs_user ON audit_logs (user_id, created_at DESC);
CREATE INDEX audit_logs_action ON audit_logs (action, created_at DESC);
CREATE INDEX audit_logs_entity ON audit_logs (entity_type, entity_id);
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
ANALYZE appointment_events, audit_logs;

-- Down Migration
ALTER TABLE audit_logs RENAME TO audit_logs_partitioned;
ALTER INDEX audit_logs_pkey RENAME TO audit_logs_partitioned_pkey;
ALTER INDEX audit_logs_created RENAME TO audit_logs_partitioned_created;
ALTER INDEX audit_logs_user RENAME TO audit_logs_partitioned_user;
ALTER INDEX audit_logs_action RENAME TO audit_logs_partitioned_action;
ALTER INDEX audit_logs_entity RENAME TO audit_logs_partitioned_entity;
ALTER SEQUENCE audit_logs_id_seq RENAME TO audit_logs_partitioned_id_seq;
CREATE TABLE audit_logs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
  action      text NOT NULL CONSTRAINT audit_logs_action_format CHECK (action ~ '^[a-z][a-z0-9_.:-]{1,80}$'),
  entity_type text CONSTRAINT audit_logs_entity_type_length CHECK (length(entity_type) <= 50),
  entity_id   text CONSTRAINT audit_logs_entity_id_length CHECK (length(entity_id) <= 100),
  details     jsonb NOT NULL DEFAULT '{}',
  ip          inet,
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_logs OVERRIDING SYSTEM VALUE SELECT * FROM audit_logs_partitioned;
SELECT setval('audit_logs_id_seq', max(id)) FROM audit_logs_partitioned HAVING max(id) IS NOT NULL;
DROP TABLE audit_logs_partitioned;
CREATE INDEX audit_logs_created ON audit_logs (created_at DESC);
CREATE INDEX audit_logs_user ON audit_logs (user_id, created_at DESC);
CREATE INDEX audit_logs_action ON audit_logs (action, created_at DESC);
CREATE INDEX audit_logs_entity ON audit_logs (entity_type, entity_id);

ALTER TABLE appointment_events RENAME TO appointment_events_partitioned;
ALTER INDEX appointment_events_pkey RENAME TO appointment_events_partitioned_pkey;
ALTER INDEX appointment_events_appointment RENAME TO appointment_events_partitioned_appointment;
ALTER SEQUENCE appointment_events_id_seq RENAME TO appointment_events_partitioned_id_seq;
CREATE TABLE appointment_events (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  appointment_id uuid NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
  event_type     text NOT NULL CONSTRAINT appointment_events_type_format CHECK (event_type ~ '^[A-Z][A-Z_]{1,40}$'),
  from_status    appointment_status,
  to_status      appointment_status,
  actor_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
  actor          text NOT NULL DEFAULT 'system' CONSTRAINT appointment_events_actor CHECK (actor IN ('user', 'operator', 'admin', 'system')),
  details        jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO appointment_events OVERRIDING SYSTEM VALUE SELECT * FROM appointment_events_partitioned;
SELECT setval('appointment_events_id_seq', max(id)) FROM appointment_events_partitioned HAVING max(id) IS NOT NULL;
DROP TABLE appointment_events_partitioned;
CREATE INDEX appointment_events_appointment ON appointment_events (appointment_id, id);
CREATE TRIGGER appointment_events_count_insert AFTER INSERT ON appointment_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION appointment_events_count();
