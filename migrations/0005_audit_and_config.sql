-- Audit trail of every admin/operator action and booking state change, and runtime
-- settings that running processes read (seed 002's audit_logs and system_config).

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

INSERT INTO system_config (key, value, description) VALUES
  ('hold_minutes',               '5',    'How long a hold lasts before it expires'),
  ('hold_sweep_seconds',         '5',    'How often expired holds are swept'),
  ('release_poll_seconds',       '5',    'How often the release poller runs when no notification wakes it'),
  ('send_rate_email_per_second', '50',   'Most emails sent per second, across all workers'),
  ('send_rate_push_per_second',  '500',  'Most pushes sent per second, across all workers'),
  ('quiet_hours_default',        'null', 'Default quiet hours {start,end} in Europe/London, or null for none');

-- Down Migration
DROP TABLE IF EXISTS system_config;
DROP TABLE IF EXISTS audit_logs;
