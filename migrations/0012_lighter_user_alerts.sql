-- A lighter user_alerts for the matcher, which writes about a thousand rows per release.
--
-- 1. Time-ordered ids. The id stays a uuid (it is the delivery job's id and what delivery
--    reads alerts by), but a random v4 id put every insert on a random leaf of the primary
--    key. A UUIDv7-style id (48-bit Unix milliseconds, then 74 random bits: RFC 9562) is
--    just as unguessable for our use and appends to the right-hand edge of the index.
--
-- 2. One key for both lookups. The unique key becomes (slot_id, user_id): a release's
--    alerts, sorted so, land side by side in it instead of on a thousand random leaves, and
--    it serves "the alerts of a slot" too, so the separate (slot_id) index goes.
--    ON CONFLICT (user_id, slot_id) infers it all the same (column order does not matter).
--    No index leads with user_id any more: deleting a user (an administrative act, which
--    nothing in the application does) scans user_alerts for its cascade, as deleting a
--    watch already did for its SET NULL.
--
-- 3. Fewer per-row foreign-key checks. Each check is a query with a row lock, per alert.
--    - slot_id: the matcher, the only writer of alerts, now takes the slot's row lock (FOR
--      KEY SHARE, the lock the check took) once per slot in the statement that reads the
--      slot, so a slot cannot be deleted while its alerts are being written, and a slot
--      deleted before is not matched. ON DELETE CASCADE becomes the trigger below (the
--      application never deletes slots; an operator's DELETE still takes their alerts).
--    - preference_id: only says which of the user's watches matched, for the message; it
--      was ON DELETE SET NULL and stays so through the trigger below. The one case the
--      foreign key covered and the trigger does not is a watch deleted while a release it
--      matches is being written: that alert keeps the id of a watch that no longer exists,
--      which every reader (src/delivery/alerts.ts joins the watch by id) treats exactly as a
--      null: no watch, so not sent.
--    - user_id keeps its foreign key: nothing cheaper stops a user being deleted under a
--      running match.

-- Up Migration
CREATE FUNCTION uuid_time_ordered() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  -- a v4 uuid with its first 48 bits replaced by the time and its version nibble set to 7
  SELECT encode(set_bit(set_bit(
           overlay(uuid_send(gen_random_uuid())
                   PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                   FROM 1 FOR 6),
           52, 1), 53, 1), 'hex')::uuid
$$;
ALTER TABLE user_alerts ALTER COLUMN id SET DEFAULT uuid_time_ordered();

ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_slot_user_key UNIQUE (slot_id, user_id);
ALTER TABLE user_alerts DROP CONSTRAINT user_alerts_user_slot_key;
DROP INDEX user_alerts_slot;

ALTER TABLE user_alerts DROP CONSTRAINT user_alerts_slot_id_fkey;
CREATE FUNCTION time_slots_delete_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM user_alerts WHERE slot_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER time_slots_delete_alerts AFTER DELETE ON time_slots
  FOR EACH ROW EXECUTE FUNCTION time_slots_delete_alerts();

ALTER TABLE user_alerts DROP CONSTRAINT user_alerts_preference_id_fkey;
CREATE FUNCTION user_preferences_forget_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_alerts SET preference_id = NULL WHERE preference_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER user_preferences_forget_alerts AFTER DELETE ON user_preferences
  FOR EACH ROW EXECUTE FUNCTION user_preferences_forget_alerts();

-- Down Migration
DROP TRIGGER IF EXISTS user_preferences_forget_alerts ON user_preferences;
DROP FUNCTION IF EXISTS user_preferences_forget_alerts();
UPDATE user_alerts a SET preference_id = NULL
 WHERE preference_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM user_preferences p WHERE p.id = a.preference_id);
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_preference_id_fkey
  FOREIGN KEY (preference_id) REFERENCES user_preferences (id) ON DELETE SET NULL;
DROP TRIGGER IF EXISTS time_slots_delete_alerts ON time_slots;
DROP FUNCTION IF EXISTS time_slots_delete_alerts();
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_slot_id_fkey
  FOREIGN KEY (slot_id) REFERENCES time_slots (id) ON DELETE CASCADE;
CREATE INDEX user_alerts_slot ON user_alerts (slot_id);
ALTER TABLE user_alerts ADD CONSTRAINT user_alerts_user_slot_key UNIQUE (user_id, slot_id);
ALTER TABLE user_alerts DROP CONSTRAINT IF EXISTS user_alerts_slot_user_key;
ALTER TABLE user_alerts ALTER COLUMN id SET DEFAULT gen_random_uuid();
DROP FUNCTION IF EXISTS uuid_time_ordered();
