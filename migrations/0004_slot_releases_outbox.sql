-- The release outbox: one row each time a slot becomes AVAILABLE (created available, hold
-- expired, cancelled, re-opened), written by a trigger in the same transaction as the
-- change. Workers claim unprocessed rows with FOR UPDATE SKIP LOCKED: never by id or time
-- watermark, since a transaction can commit a lower id after a higher one.

-- Up Migration
CREATE TABLE slot_releases (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slot_id       uuid NOT NULL REFERENCES time_slots (id) ON DELETE CASCADE,
  -- why: the transaction may say so with set_config('slotwatch.release_reason', ..., true)
  reason        text NOT NULL CONSTRAINT slot_releases_reason_format CHECK (reason ~ '^[a-z_]{1,40}$'),
  released_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  alerts_created integer CONSTRAINT slot_releases_alerts_created CHECK (alerts_created >= 0)
);
CREATE INDEX slot_releases_unprocessed ON slot_releases (id) WHERE processed_at IS NULL;
CREATE INDEX slot_releases_slot ON slot_releases (slot_id);

CREATE FUNCTION slot_releases_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'AVAILABLE' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'AVAILABLE') THEN
    INSERT INTO slot_releases (slot_id, reason)
    VALUES (NEW.id, coalesce(nullif(current_setting('slotwatch.release_reason', true), ''),
                             CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'reopened' END));
    -- one payload-less notification per transaction (PostgreSQL folds identical ones):
    -- it only wakes the poller, which claims rows by state
    PERFORM pg_notify('slot_released', '');
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER time_slots_release AFTER INSERT OR UPDATE OF status ON time_slots
  FOR EACH ROW EXECUTE FUNCTION slot_releases_capture();

-- Down Migration
DROP TRIGGER IF EXISTS time_slots_release ON time_slots;
DROP FUNCTION IF EXISTS slot_releases_capture();
DROP TABLE IF EXISTS slot_releases;
