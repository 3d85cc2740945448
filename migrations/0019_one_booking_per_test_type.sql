-- One active booking per learner per test type, kept by the database.
--
-- 1. appointments.test_type: a copy of the slot's test type, kept by the trigger that
--    already copies the slot's period (an exclusion constraint cannot join).
-- 2. appointments_one_per_test_type: a learner's HOLD or CONFIRMED appointments of one test
--    type may not be active at the same time. An appointment is active from when it was
--    taken (created_at) until its slot ends: a new one is taken now, so it conflicts with
--    exactly the learner's appointments of that type whose test has not ended yet, while a
--    test already taken (completed), a cancelled hold or booking, an expired hold and a
--    no-show block nothing. (A partial unique index over the statuses alone would count a
--    test taken last year for ever: the predicate of an index cannot mention now().) The
--    bound is clamped so that a row recorded after its slot ended (an operator's record
--    of a past test) has an empty period rather than an invalid range. NULL user ids (the
--    records of erased accounts) never conflict: NULL = NULL is not true.
-- 3. appointments.predates_booking_limit: existing bookings are left as they are. Where a
--    learner already has more than one active appointment of a type (which the rule now
--    refuses), every one that overlaps an earlier-taken one is marked, and the constraint
--    leaves marked rows out: cancelling a learner's booked test in a migration, with no
--    word to them, would be worse than letting it run its course. The learner's first
--    booking still counts, so they cannot add another; the marked ones stop mattering
--    once their tests are past. New rows are never marked.

-- Up Migration
ALTER TABLE appointments ADD COLUMN test_type test_type;
UPDATE appointments a SET test_type = s.test_type FROM time_slots s WHERE s.id = a.slot_id;
ALTER TABLE appointments ALTER COLUMN test_type SET NOT NULL;

ALTER TABLE appointments ADD COLUMN predates_booking_limit boolean NOT NULL DEFAULT false;
UPDATE appointments a SET predates_booking_limit = true
 WHERE a.status IN ('HOLD', 'CONFIRMED') AND a.user_id IS NOT NULL
   AND EXISTS (
     SELECT 1 FROM appointments b
      WHERE b.user_id = a.user_id AND b.test_type = a.test_type AND b.status IN ('HOLD', 'CONFIRMED')
        AND (b.created_at, b.id) < (a.created_at, a.id)
        AND tstzrange(least(b.created_at, upper(b.slot_period)), upper(b.slot_period))
         && tstzrange(least(a.created_at, upper(a.slot_period)), upper(a.slot_period)));

ALTER TABLE appointments ADD CONSTRAINT appointments_one_per_test_type EXCLUDE USING gist (
  user_id WITH =,
  test_type WITH =,
  tstzrange(least(created_at, upper(slot_period)), upper(slot_period)) WITH &&
) WHERE (status IN ('HOLD', 'CONFIRMED') AND NOT predates_booking_limit);

CREATE OR REPLACE FUNCTION appointments_copy_slot_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT tstzrange(s.start_time, s.end_time), s.test_type INTO NEW.slot_period, NEW.test_type FROM time_slots s WHERE s.id = NEW.slot_id;
  RETURN NEW; -- a missing slot leaves both null and the NOT NULL / foreign key refuse it
END $$;

CREATE OR REPLACE FUNCTION time_slots_sync_appointment_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE appointments SET slot_period = tstzrange(NEW.start_time, NEW.end_time), test_type = NEW.test_type WHERE slot_id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER time_slots_period_changed ON time_slots;
CREATE TRIGGER time_slots_period_changed AFTER UPDATE OF start_time, end_time, test_type ON time_slots
  FOR EACH ROW WHEN (OLD.start_time IS DISTINCT FROM NEW.start_time OR OLD.end_time IS DISTINCT FROM NEW.end_time
                     OR OLD.test_type IS DISTINCT FROM NEW.test_type)
  EXECUTE FUNCTION time_slots_sync_appointment_period();

-- Down Migration
DROP TRIGGER time_slots_period_changed ON time_slots;
CREATE TRIGGER time_slots_period_changed AFTER UPDATE OF start_time, end_time ON time_slots
  FOR EACH ROW WHEN (OLD.start_time IS DISTINCT FROM NEW.start_time OR OLD.end_time IS DISTINCT FROM NEW.end_time)
  EXECUTE FUNCTION time_slots_sync_appointment_period();
CREATE OR REPLACE FUNCTION time_slots_sync_appointment_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE appointments SET slot_period = tstzrange(NEW.start_time, NEW.end_time) WHERE slot_id = NEW.id;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION appointments_copy_slot_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT tstzrange(s.start_time, s.end_time) INTO NEW.slot_period FROM time_slots s WHERE s.id = NEW.slot_id;
  RETURN NEW; -- a missing slot leaves slot_period null and the NOT NULL / foreign key refuse it
END $$;
ALTER TABLE appointments DROP CONSTRAINT IF EXISTS appointments_one_per_test_type;
ALTER TABLE appointments DROP COLUMN IF EXISTS predates_booking_limit;
ALTER TABLE appointments DROP COLUMN IF EXISTS test_type;
