-- The tier that orders an alert's delivery, without a users row per alert. The matcher
-- used to read users.priority for every alert it wrote, after the insert, to give the
-- hand-off its job priority: one random read of users per alert. Now each watch carries
-- its user's tier beside the active flag (same triggers as migration 0011, same locking),
-- and the alert records the tier it was written with, which the insert returns.

-- Up Migration
ALTER TABLE user_preferences ADD COLUMN user_priority appointment_priority NOT NULL DEFAULT 'NORMAL';
UPDATE user_preferences p SET user_priority = u.priority FROM users u WHERE u.id = p.user_id AND u.priority <> 'NORMAL';

-- the tier of the user when the alert was written: it orders the alert's delivery
ALTER TABLE user_alerts ADD COLUMN priority appointment_priority NOT NULL DEFAULT 'NORMAL';

CREATE OR REPLACE FUNCTION user_preferences_take_user_active() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  u record;
BEGIN
  SELECT is_active, priority INTO u FROM users WHERE id = NEW.user_id FOR SHARE;
  -- no row (a user_id the foreign key will refuse anyway) leaves the defaults
  NEW.user_active := coalesce(u.is_active, true);
  NEW.user_priority := coalesce(u.priority, 'NORMAL');
  RETURN NEW;
END $$;
DROP TRIGGER user_preferences_user_active ON user_preferences;
CREATE TRIGGER user_preferences_user_active BEFORE INSERT OR UPDATE OF user_id, user_active, user_priority ON user_preferences
  FOR EACH ROW EXECUTE FUNCTION user_preferences_take_user_active();

CREATE OR REPLACE FUNCTION users_pass_active_to_preferences() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_preferences SET user_active = NEW.is_active, user_priority = NEW.priority
   WHERE user_id = NEW.id AND (user_active IS DISTINCT FROM NEW.is_active OR user_priority IS DISTINCT FROM NEW.priority);
  RETURN NULL;
END $$;
DROP TRIGGER users_active_to_preferences ON users;
CREATE TRIGGER users_active_to_preferences AFTER UPDATE OF is_active, priority ON users
  FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.priority IS DISTINCT FROM NEW.priority)
  EXECUTE FUNCTION users_pass_active_to_preferences();

-- Down Migration
DROP TRIGGER IF EXISTS users_active_to_preferences ON users;
CREATE OR REPLACE FUNCTION users_pass_active_to_preferences() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_preferences SET user_active = NEW.is_active WHERE user_id = NEW.id AND user_active IS DISTINCT FROM NEW.is_active;
  RETURN NULL;
END $$;
CREATE TRIGGER users_active_to_preferences AFTER UPDATE OF is_active ON users
  FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active)
  EXECUTE FUNCTION users_pass_active_to_preferences();
DROP TRIGGER IF EXISTS user_preferences_user_active ON user_preferences;
CREATE OR REPLACE FUNCTION user_preferences_take_user_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.user_active := coalesce((SELECT u.is_active FROM users u WHERE u.id = NEW.user_id FOR SHARE), true);
  RETURN NEW;
END $$;
CREATE TRIGGER user_preferences_user_active BEFORE INSERT OR UPDATE OF user_id, user_active ON user_preferences
  FOR EACH ROW EXECUTE FUNCTION user_preferences_take_user_active();
ALTER TABLE user_alerts DROP COLUMN IF EXISTS priority;
ALTER TABLE user_preferences DROP COLUMN IF EXISTS user_priority;
