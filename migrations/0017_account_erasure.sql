-- A learner may delete their account (UK GDPR erasure). The users row goes, and with it,
-- by ON DELETE CASCADE, everything that is theirs alone (watches, alerts, push
-- subscriptions, sessions, idempotency keys, and any table added later that cascades).
-- Appointments are the operator's records of tests, so they stay, detached from the person:
-- user_id becomes nullable and is set to NULL when the user is deleted (the erasure cancels
-- live holds and future bookings first, which releases their slots). A hold always belongs
-- to someone: a hold left for a deleted user would keep its slot from ever being released.
-- The audit log is searched by what an entry is about, for an export and an erasure.

-- Up Migration
ALTER TABLE appointments ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE appointments DROP CONSTRAINT appointments_user_id_fkey;
ALTER TABLE appointments ADD CONSTRAINT appointments_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE appointments ADD CONSTRAINT appointments_hold_has_user CHECK (status <> 'HOLD' OR user_id IS NOT NULL);

CREATE INDEX audit_logs_entity ON audit_logs (entity_type, entity_id);

-- Down Migration
DROP INDEX IF EXISTS audit_logs_entity;
ALTER TABLE appointments DROP CONSTRAINT IF EXISTS appointments_hold_has_user;
ALTER TABLE appointments DROP CONSTRAINT appointments_user_id_fkey;
ALTER TABLE appointments ADD CONSTRAINT appointments_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT;
-- fails, naming the column, while appointments of deleted accounts exist: they have no user to go back to
ALTER TABLE appointments ALTER COLUMN user_id SET NOT NULL;
