-- Verified addresses and single-use links. A self-registered account's address is unproven
-- until its owner follows the link mailed to it (users.email_verified_at); until then its
-- watches write no alerts, the same way an inactive user's do: the flag each watch carries
-- (user_preferences.user_active, kept by the triggers of migrations 0011 and 0013) now
-- means "active and verified", so matching and watch_coverage need no change.
--
-- account_tokens holds the links mailed for verifying an address and for resetting a
-- password. Only a token's SHA-256 is stored, so a copy of the table proves nothing and
-- resets nothing; a token is spent by setting used_at, and expires at expires_at.

-- Up Migration
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
-- accounts made before the rule keep working: they are taken as verified
UPDATE users SET email_verified_at = created_at;

CREATE TYPE account_token_purpose AS ENUM ('verify', 'reset');

CREATE TABLE account_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose     account_token_purpose NOT NULL,
  token_hash  bytea NOT NULL CONSTRAINT account_tokens_token_hash_key UNIQUE
              CONSTRAINT account_tokens_token_hash_length CHECK (length(token_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  CONSTRAINT account_tokens_expires_after_created CHECK (expires_at > created_at)
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_stale ON account_tokens (expires_at);

CREATE OR REPLACE FUNCTION user_preferences_take_user_active() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  u record;
BEGIN
  SELECT is_active AND email_verified_at IS NOT NULL AS alertable, priority INTO u FROM users WHERE id = NEW.user_id FOR SHARE;
  -- no row (a user_id the foreign key will refuse anyway) leaves the defaults
  NEW.user_active := coalesce(u.alertable, true);
  NEW.user_priority := coalesce(u.priority, 'NORMAL');
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION users_pass_active_to_preferences() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  alertable boolean := NEW.is_active AND NEW.email_verified_at IS NOT NULL;
BEGIN
  UPDATE user_preferences SET user_active = alertable, user_priority = NEW.priority
   WHERE user_id = NEW.id AND (user_active IS DISTINCT FROM alertable OR user_priority IS DISTINCT FROM NEW.priority);
  RETURN NULL;
END $$;
DROP TRIGGER users_active_to_preferences ON users;
CREATE TRIGGER users_active_to_preferences AFTER UPDATE OF is_active, priority, email_verified_at ON users
  FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.priority IS DISTINCT FROM NEW.priority
                     OR (OLD.email_verified_at IS NULL) IS DISTINCT FROM (NEW.email_verified_at IS NULL))
  EXECUTE FUNCTION users_pass_active_to_preferences();

-- Down Migration
DROP TRIGGER IF EXISTS users_active_to_preferences ON users;
CREATE OR REPLACE FUNCTION users_pass_active_to_preferences() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_preferences SET user_active = NEW.is_active, user_priority = NEW.priority
   WHERE user_id = NEW.id AND (user_active IS DISTINCT FROM NEW.is_active OR user_priority IS DISTINCT FROM NEW.priority);
  RETURN NULL;
END $$;
CREATE TRIGGER users_active_to_preferences AFTER UPDATE OF is_active, priority ON users
  FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.priority IS DISTINCT FROM NEW.priority)
  EXECUTE FUNCTION users_pass_active_to_preferences();
CREATE OR REPLACE FUNCTION user_preferences_take_user_active() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  u record;
BEGIN
  SELECT is_active, priority INTO u FROM users WHERE id = NEW.user_id FOR SHARE;
  NEW.user_active := coalesce(u.is_active, true);
  NEW.user_priority := coalesce(u.priority, 'NORMAL');
  RETURN NEW;
END $$;
UPDATE user_preferences p SET user_active = u.is_active FROM users u WHERE u.id = p.user_id AND p.user_active IS DISTINCT FROM u.is_active;
DROP TABLE IF EXISTS account_tokens;
DROP TYPE IF EXISTS account_token_purpose;
ALTER TABLE users DROP COLUMN IF EXISTS email_verified_at;
