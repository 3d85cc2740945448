-- Users, test centres, examiners (specialists), time slots, appointments and their events:
-- the booking half of the schema (seed 000) joined with seed 002's centres and test types.
-- SQL conventions: docs/sql-conventions.md.

-- Up Migration
CREATE TYPE user_role AS ENUM ('CLIENT', 'OPERATOR', 'ADMIN');
CREATE TYPE timeslot_status AS ENUM ('AVAILABLE', 'HOLD', 'BOOKED');
CREATE TYPE appointment_status AS ENUM ('HOLD', 'CONFIRMED', 'CANCELLED', 'NO_SHOW');
CREATE TYPE appointment_priority AS ENUM ('NORMAL', 'VIP', 'URGENT');
CREATE TYPE test_type AS ENUM ('practical', 'theory');
CREATE TYPE notification_method AS ENUM ('email', 'push');

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL
                CONSTRAINT users_email_format CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$')
                CONSTRAINT users_email_length CHECK (length(email) <= 254),
  password_hash text NOT NULL,
  first_name    text CONSTRAINT users_first_name_length CHECK (length(first_name) <= 100),
  last_name     text CONSTRAINT users_last_name_length CHECK (length(last_name) <= 100),
  role          user_role NOT NULL DEFAULT 'CLIENT',
  -- the user's tier: copied onto their appointments and used to order alert delivery
  priority      appointment_priority NOT NULL DEFAULT 'NORMAL',
  is_active     boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- one account per address whatever its letter case
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE test_centers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  external_id text CONSTRAINT test_centers_external_id_key UNIQUE,
  name        text NOT NULL CONSTRAINT test_centers_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  postcode    text NOT NULL CONSTRAINT test_centers_postcode_length CHECK (length(btrim(postcode)) BETWEEN 2 AND 10),
  address     text,
  latitude    double precision NOT NULL CONSTRAINT test_centers_latitude_range CHECK (latitude BETWEEN -90 AND 90),
  longitude   double precision NOT NULL CONSTRAINT test_centers_longitude_range CHECK (longitude BETWEEN -180 AND 180),
  -- derived from latitude/longitude so the two can never disagree
  location    geography(Point, 4326) GENERATED ALWAYS AS
                (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography) STORED,
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX test_centers_location_gist ON test_centers USING gist (location);
CREATE TRIGGER test_centers_updated_at BEFORE UPDATE ON test_centers FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE specialists (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  full_name    text NOT NULL CONSTRAINT specialists_full_name_length CHECK (length(btrim(full_name)) BETWEEN 1 AND 200),
  service_type text NOT NULL CONSTRAINT specialists_service_type_length CHECK (length(btrim(service_type)) BETWEEN 1 AND 100),
  center_id    uuid NOT NULL REFERENCES test_centers (id) ON DELETE RESTRICT,
  is_active    boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- target of time_slots' (specialist_id, center_id) key: a slot sits at its examiner's centre
  CONSTRAINT specialists_id_center_key UNIQUE (id, center_id)
);
CREATE INDEX specialists_center ON specialists (center_id);

CREATE TABLE time_slots (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- null only for slots that come from a provider's feed, which names no examiner
  specialist_id uuid,
  center_id     uuid NOT NULL REFERENCES test_centers (id) ON DELETE RESTRICT,
  test_type     test_type NOT NULL,
  start_time    timestamptz NOT NULL,
  end_time      timestamptz NOT NULL,
  status        timeslot_status NOT NULL DEFAULT 'AVAILABLE',
  source        text NOT NULL DEFAULT 'operator',
  external_id   text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT time_slots_start_before_end CHECK (start_time < end_time),
  CONSTRAINT time_slots_specialist_center_fkey FOREIGN KEY (specialist_id, center_id)
    REFERENCES specialists (id, center_id) ON DELETE RESTRICT,
  -- an examiner cannot be in two slots at once
  CONSTRAINT time_slots_specialist_no_overlap EXCLUDE USING gist
    (specialist_id WITH =, tstzrange(start_time, end_time) WITH &&) WHERE (specialist_id IS NOT NULL),
  CONSTRAINT time_slots_source_external_id_key UNIQUE (source, external_id)
);
-- the slot search: free slots at a centre for a test type, by time
CREATE INDEX time_slots_available ON time_slots (center_id, test_type, start_time) WHERE status = 'AVAILABLE';
CREATE INDEX time_slots_start ON time_slots (start_time);
CREATE TRIGGER time_slots_updated_at BEFORE UPDATE ON time_slots FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- seed 002's available/date/time, derived rather than stored twice; dates are British
CREATE VIEW time_slots_local AS
SELECT s.*,
       s.status = 'AVAILABLE'                                   AS available,
       (s.start_time AT TIME ZONE 'Europe/London')::date        AS date,
       (s.start_time AT TIME ZONE 'Europe/London')::time        AS time
  FROM time_slots s;

CREATE TABLE appointments (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  slot_id      uuid NOT NULL REFERENCES time_slots (id) ON DELETE RESTRICT,
  status       appointment_status NOT NULL DEFAULT 'HOLD',
  priority     appointment_priority NOT NULL DEFAULT 'NORMAL',
  -- a copy of the slot's period, kept by triggers: an exclusion constraint cannot join
  slot_period  tstzrange NOT NULL,
  expires_at   timestamptz,
  confirmed_at timestamptz,
  cancelled_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT appointments_hold_has_expiry CHECK (status <> 'HOLD' OR expires_at IS NOT NULL),
  -- one user cannot hold or book two appointments that overlap in time
  CONSTRAINT appointments_user_no_overlap EXCLUDE USING gist
    (user_id WITH =, slot_period WITH &&) WHERE (status IN ('HOLD', 'CONFIRMED'))
);
-- never two active appointments on one slot; a cancelled one does not block a new hold
CREATE UNIQUE INDEX appointments_one_active_per_slot ON appointments (slot_id) WHERE status IN ('HOLD', 'CONFIRMED');
-- one hold at a time per user
CREATE UNIQUE INDEX appointments_one_hold_per_user ON appointments (user_id) WHERE status = 'HOLD';
CREATE INDEX appointments_hold_expiry ON appointments (expires_at) WHERE status = 'HOLD';
CREATE INDEX appointments_user ON appointments (user_id, created_at DESC);
CREATE INDEX appointments_slot ON appointments (slot_id);
CREATE TRIGGER appointments_updated_at BEFORE UPDATE ON appointments FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE FUNCTION appointments_copy_slot_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT tstzrange(s.start_time, s.end_time) INTO NEW.slot_period FROM time_slots s WHERE s.id = NEW.slot_id;
  RETURN NEW; -- a missing slot leaves slot_period null and the NOT NULL / foreign key refuse it
END $$;
CREATE TRIGGER appointments_slot_period BEFORE INSERT OR UPDATE OF slot_id ON appointments
  FOR EACH ROW EXECUTE FUNCTION appointments_copy_slot_period();

CREATE FUNCTION time_slots_sync_appointment_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE appointments SET slot_period = tstzrange(NEW.start_time, NEW.end_time) WHERE slot_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER time_slots_period_changed AFTER UPDATE OF start_time, end_time ON time_slots
  FOR EACH ROW WHEN (OLD.start_time IS DISTINCT FROM NEW.start_time OR OLD.end_time IS DISTINCT FROM NEW.end_time)
  EXECUTE FUNCTION time_slots_sync_appointment_period();

CREATE TABLE appointment_events (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  appointment_id uuid NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
  event_type     text NOT NULL CONSTRAINT appointment_events_type_format CHECK (event_type ~ '^[A-Z][A-Z_]{1,40}$'),
  from_status    appointment_status,
  to_status      appointment_status,
  actor_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
  actor          text NOT NULL DEFAULT 'system' CONSTRAINT appointment_events_actor CHECK (actor IN ('user', 'operator', 'admin', 'system')),
  details        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appointment_events_appointment ON appointment_events (appointment_id, id);

-- Down Migration
DROP TABLE IF EXISTS appointment_events;
DROP TABLE IF EXISTS appointments;
DROP FUNCTION IF EXISTS appointments_copy_slot_period();
DROP VIEW IF EXISTS time_slots_local;
DROP TABLE IF EXISTS time_slots;
DROP FUNCTION IF EXISTS time_slots_sync_appointment_period();
DROP TABLE IF EXISTS specialists;
DROP TABLE IF EXISTS test_centers;
DROP TABLE IF EXISTS users;
DROP FUNCTION IF EXISTS set_updated_at();
DROP TYPE IF EXISTS notification_method;
DROP TYPE IF EXISTS test_type;
DROP TYPE IF EXISTS appointment_priority;
DROP TYPE IF EXISTS appointment_status;
DROP TYPE IF EXISTS timeslot_status;
DROP TYPE IF EXISTS user_role;
