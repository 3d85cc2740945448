-- Sessions behind the bearer tokens of /api/auth/login. The token itself is never stored:
-- only its SHA-256, so a copy of this table signs nobody in. A session ends when it
-- expires or is revoked (logout); stale rows are deleted by the sweep.

-- Up Migration
CREATE TABLE sessions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL CONSTRAINT sessions_token_hash_key UNIQUE
              CONSTRAINT sessions_token_hash_length CHECK (length(token_hash) = 32),
  ip          inet,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  CONSTRAINT sessions_expires_after_created CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_stale ON sessions (coalesce(revoked_at, expires_at));

-- Down Migration
DROP TABLE IF EXISTS sessions;
