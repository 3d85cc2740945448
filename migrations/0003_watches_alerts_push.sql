-- Watches (seed 002's user_preferences, one user many watches, each with its own point),
-- the alerts they produce, and browsers' push subscriptions.

-- Up Migration
CREATE TYPE alert_status AS ENUM ('PENDING', 'SENDING', 'SENT', 'SKIPPED', 'FAILED');

CREATE TABLE user_preferences (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  label                text CONSTRAINT user_preferences_label_length CHECK (length(label) <= 100),
  latitude             double precision NOT NULL CONSTRAINT user_preferences_latitude_range CHECK (latitude BETWEEN -90 AND 90),
  longitude            double precision NOT NULL CONSTRAINT user_preferences_longitude_range CHECK (longitude BETWEEN -180 AND 180),
  location             geography(Point, 4326) GENERATED ALWAYS AS
                         (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography) STORED,
  -- the postcode the point was resolved from, when the user gave one
  postcode             text CONSTRAINT user_preferences_postcode_length CHECK (length(postcode) <= 10),
  radius_miles         numeric(6, 2) NOT NULL DEFAULT 25
                       CONSTRAINT user_preferences_radius_range CHECK (radius_miles > 0 AND radius_miles <= 100),
  notification_method  notification_method NOT NULL DEFAULT 'email',
  preferred_test_types jsonb NOT NULL DEFAULT '["practical"]'::jsonb
                       CONSTRAINT user_preferences_test_types CHECK (
                         jsonb_typeof(preferred_test_types) = 'array'
                         AND jsonb_array_length(preferred_test_types) >= 1
                         AND preferred_test_types <@ '["practical", "theory"]'::jsonb),
  earliest_date        date,
  latest_date          date,
  is_active            boolean NOT NULL DEFAULT true,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_preferences_date_window CHECK (earliest_date IS NULL OR latest_date IS NULL OR earliest_date <= latest_date)
);
CREATE INDEX user_preferences_location_active ON user_preferences USING gist (location) WHERE is_active;
CREATE INDEX user_preferences_user ON user_preferences (user_id);
CREATE TRIGGER user_preferences_updated_at BEFORE UPDATE ON user_preferences FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE user_alerts (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  slot_id             uuid NOT NULL REFERENCES time_slots (id) ON DELETE CASCADE,
  -- the watch that matched (one of them, when several overlap)
  preference_id       uuid REFERENCES user_preferences (id) ON DELETE SET NULL,
  distance_m          double precision CONSTRAINT user_alerts_distance CHECK (distance_m >= 0),
  sent                boolean NOT NULL DEFAULT false,
  status              alert_status NOT NULL DEFAULT 'PENDING',
  channel             notification_method,
  attempts            integer NOT NULL DEFAULT 0 CONSTRAINT user_alerts_attempts CHECK (attempts >= 0),
  last_error          text,
  provider_message_id text,
  -- a SENDING claim is the sender's until then; past it another process may retake it
  lease_until         timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz,
  CONSTRAINT user_alerts_user_slot_key UNIQUE (user_id, slot_id),
  CONSTRAINT user_alerts_sent_matches_status CHECK (sent = (status = 'SENT')),
  CONSTRAINT user_alerts_sent_at CHECK (NOT sent OR sent_at IS NOT NULL)
);
CREATE INDEX user_alerts_unfinished ON user_alerts (created_at) WHERE status IN ('PENDING', 'SENDING');
CREATE INDEX user_alerts_slot ON user_alerts (slot_id);
CREATE TRIGGER user_alerts_updated_at BEFORE UPDATE ON user_alerts FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE push_subscriptions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  endpoint        text NOT NULL CONSTRAINT push_subscriptions_endpoint_key UNIQUE
                  CONSTRAINT push_subscriptions_endpoint_format CHECK (endpoint ~ '^https?://' AND length(endpoint) <= 2048),
  p256dh          text NOT NULL CONSTRAINT push_subscriptions_p256dh_format CHECK (p256dh ~ '^[A-Za-z0-9_-]{20,200}={0,2}$'),
  auth            text NOT NULL CONSTRAINT push_subscriptions_auth_format CHECK (auth ~ '^[A-Za-z0-9_-]{8,64}={0,2}$'),
  user_agent      text CONSTRAINT push_subscriptions_user_agent_length CHECK (length(user_agent) <= 500),
  is_active       boolean NOT NULL DEFAULT true,
  last_success_at timestamptz,
  last_failure_at timestamptz,
  failure_reason  text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user_active ON push_subscriptions (user_id) WHERE is_active;

-- Down Migration
DROP TABLE IF EXISTS push_subscriptions;
DROP TABLE IF EXISTS user_alerts;
DROP TABLE IF EXISTS user_preferences;
DROP TYPE IF EXISTS alert_status;
