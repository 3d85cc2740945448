-- Audit trail of every admin/operator action and booking state change, and runtime
-- settings that running processes read (seed 002's audit_logs and system_config).
-- Which keys exist and what values they take is defined in src/settings/definitions.ts.

-- Up Migration
CREATE TABLE audit_logs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- who acted; null for the system (sweeps, feeds)
  user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
  action      text NOT NULL CONSTRAINT audit_logs_action_format CHECK (action ~ '^[a-z][a-z0-9_.:-]{1,80}$'),
  entity_type text CONSTRAINT audit_logs_entity_type_length CHECK (length(entity_type) <= 50),
  entity_id   text CONSTRAINT audit_logs_entity_id_length CHECK (length(entity_id) <= 100),
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip          inet,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_created ON audit_logs (created_at DESC);
CREATE INDEX audit_logs_user ON audit_logs (user_id, created_at DESC);
CREATE INDEX audit_logs_action ON audit_logs (action, created_at DESC);

CREATE TABLE system_config (
  key         text PRIMARY KEY CONSTRAINT system_config_key_format CHECK (key ~ '^[a-z][a-z0-9_]{1,60}$'),
  value       jsonb NOT NULL,
  description text,
  updated_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- No rows are seeded: a key without a row takes its default from the environment
-- (src/settings/), so HOLD_MINUTES etc. keep working until an admin sets a value here.

-- Down Migration
DROP TABLE IF EXISTS system_config;
DROP TABLE IF EXISTS audit_logs;
