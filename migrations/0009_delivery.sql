-- Delivery: a one-click unsubscribe token per watch (RFC 8058; random, so no login and no
-- signing secret is needed), optional quiet hours per user (Europe/London wall-clock times)
-- and the function that says when a user's quiet hours end.

-- Up Migration
ALTER TABLE user_preferences
  ADD COLUMN unsubscribe_token text NOT NULL
    -- two v4 UUIDs: 244 random bits from the core gen_random_uuid(), no pgcrypto needed
    DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
    CONSTRAINT user_preferences_unsubscribe_token_key UNIQUE;

ALTER TABLE users
  ADD COLUMN quiet_hours_start time,
  ADD COLUMN quiet_hours_end   time,
  ADD CONSTRAINT users_quiet_hours_pair CHECK (
    (quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)
    AND (quiet_hours_start IS NULL OR quiet_hours_start <> quiet_hours_end));

-- When the quiet period containing `at` ends, or null when `at` is outside quiet hours
-- (or the user has none). start > end wraps past midnight (22:00-07:00). The wall-clock
-- end is turned back into an instant in Europe/London, so DST changes are honoured.
CREATE FUNCTION quiet_hours_until(q_start time, q_end time, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
           WHEN q_start IS NULL OR q_end IS NULL THEN NULL
           WHEN q_start < q_end AND l.t >= q_start AND l.t < q_end
             THEN (l.d + q_end) AT TIME ZONE 'Europe/London'
           WHEN q_start > q_end AND l.t >= q_start
             THEN (l.d + 1 + q_end) AT TIME ZONE 'Europe/London'
           WHEN q_start > q_end AND l.t < q_end
             THEN (l.d + q_end) AT TIME ZONE 'Europe/London'
         END
    FROM (SELECT (at AT TIME ZONE 'Europe/London')::date AS d,
                 (at AT TIME ZONE 'Europe/London')::time AS t) l
$$;

-- Down Migration
DROP FUNCTION IF EXISTS quiet_hours_until(time, time, timestamptz);
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_quiet_hours_pair,
  DROP COLUMN IF EXISTS quiet_hours_start, DROP COLUMN IF EXISTS quiet_hours_end;
ALTER TABLE user_preferences DROP COLUMN IF EXISTS unsubscribe_token;
