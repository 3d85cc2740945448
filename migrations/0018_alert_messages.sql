-- Messages apart from alerts, a daily cap, and a second alert when a slot comes back.
--
-- 1. alert_messages: one email or push that carries one or more alerts. The first alert
--    for a learner goes out at once as a 'single' message; alerts matched while a message
--    to them is in flight, or within alert_digest_seconds after their last one, gather in
--    one 'digest' that goes out once, with its own claim and lease. A learner has at most
--    one open (PENDING) digest: the partial unique index below is what keeps two worker
--    processes from opening two for one burst.
-- 2. user_alerts.message_id: the message that carried (or will carry) the alert. Alerts
--    gathered into a digest are DIGESTED; alerts matched after the learner's daily cap was
--    reached are CAPPED (recorded, never sent).
-- 3. user_alerts.release_id: the slot_releases row the alert answers. The unique key
--    (slot_id, user_id) becomes (slot_id, user_id, release_id): a slot that comes back
--    free alerts its learners again (the matcher also leaves out anyone alerted for the
--    slot less than realert_after_minutes ago). Existing rows get the latest release of
--    their slot at or before they were written (NULL when there is none, which the key
--    treats as one value).
-- 4. users.alert_daily_cap: a learner's own lower cap, or NULL for the admin's.

-- Up Migration
ALTER TYPE alert_status ADD VALUE IF NOT EXISTS 'DIGESTED';
ALTER TYPE alert_status ADD VALUE IF NOT EXISTS 'CAPPED';

CREATE TABLE alert_messages (
  id                  uuid PRIMARY KEY DEFAULT uuid_time_ordered(),
  user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind                text NOT NULL CONSTRAINT alert_messages_kind CHECK (kind IN ('single', 'digest')),
  -- PENDING, SENDING under a lease, then SENT, SKIPPED (nothing left to tell) or FAILED
  status              alert_status NOT NULL DEFAULT 'PENDING'
                      CONSTRAINT alert_messages_status CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'SKIPPED', 'FAILED')),
  -- the channel it went by, chosen when it is sent
  channel             notification_method,
  -- the message that brings the learner to their daily cap: it says so
  reaches_cap         boolean NOT NULL DEFAULT false,
  -- a digest is not sent before this
  send_after          timestamptz NOT NULL DEFAULT now(),
  attempts            integer NOT NULL DEFAULT 0 CONSTRAINT alert_messages_attempts CHECK (attempts >= 0),
  lease_until         timestamptz,
  last_error          text,
  provider_message_id text,
  enqueued_at         timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz,
  CONSTRAINT alert_messages_sent_at CHECK ((status = 'SENT') = (sent_at IS NOT NULL))
);
CREATE UNIQUE INDEX alert_messages_one_open_digest ON alert_messages (user_id) WHERE kind = 'digest' AND status = 'PENDING';
-- a learner's messages by time: the daily cap's count and "their last message"
CREATE INDEX alert_messages_user ON alert_messages (user_id, created_at);
CREATE INDEX alert_messages_unfinished ON alert_messages (send_after) WHERE status IN ('PENDING', 'SENDING');

ALTER TABLE user_alerts
  ADD COLUMN message_id uuid REFERENCES alert_messages (id) ON DELETE SET NULL,
  ADD COLUMN release_id bigint;
UPDATE user_alerts a
   SET release_id = (SELECT max(r.id) FROM slot_releases r WHERE r.slot_id = a.slot_id AND r.released_at <= a.created_at);
ALTER TABLE user_alerts DROP CONSTRAINT user_alerts_slot_user_key;
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_slot_user_release_key UNIQUE NULLS NOT DISTINCT (slot_id, user_id, release_id);
-- a learner's alerts, newest first (ids are time-ordered): their list, and deleting them
CREATE INDEX user_alerts_user ON user_alerts (user_id, id);
CREATE INDEX user_alerts_message ON user_alerts (message_id) WHERE message_id IS NOT NULL;

ALTER TABLE users ADD COLUMN alert_daily_cap integer CONSTRAINT users_alert_daily_cap CHECK (alert_daily_cap BETWEEN 1 AND 1000);

-- Down Migration
ALTER TABLE users DROP COLUMN IF EXISTS alert_daily_cap;
DROP INDEX IF EXISTS user_alerts_message;
DROP INDEX IF EXISTS user_alerts_user;
-- one alert per (slot, user) again: keep each pair's first
DELETE FROM user_alerts a USING user_alerts b
 WHERE a.slot_id = b.slot_id AND a.user_id = b.user_id AND a.id > b.id;
ALTER TABLE user_alerts DROP CONSTRAINT IF EXISTS user_alerts_slot_user_release_key;
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_slot_user_key UNIQUE (slot_id, user_id);
-- the enum keeps its two new values (PostgreSQL cannot drop them); no row uses them
UPDATE user_alerts SET status = 'SKIPPED', last_error = 'sent in a digest, or over the daily cap'
 WHERE status::text IN ('DIGESTED', 'CAPPED');
ALTER TABLE user_alerts DROP COLUMN IF EXISTS release_id, DROP COLUMN IF EXISTS message_id;
DROP TABLE IF EXISTS alert_messages;
