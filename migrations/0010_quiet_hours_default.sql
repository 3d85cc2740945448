-- Quiet hours for users who set none: the admin's `quiet_hours_default` setting
-- ({"start":"HH:MM","end":"HH:MM"} or null, src/settings/definitions.ts) applies to them.
-- Read here, in the statements that decide, so a change takes effect at once everywhere.

-- Up Migration
CREATE FUNCTION user_quiet_hours_until(u_start time, u_end time, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
           WHEN u_start IS NOT NULL THEN quiet_hours_until(u_start, u_end, at)
           ELSE (SELECT quiet_hours_until((value ->> 'start')::time, (value ->> 'end')::time, at)
                   FROM system_config
                  WHERE key = 'quiet_hours_default' AND jsonb_typeof(value) = 'object'
                    AND value ->> 'start' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                    AND value ->> 'end' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$')
         END
$$;

-- Down Migration
DROP FUNCTION IF EXISTS user_quiet_hours_until(time, time, timestamptz);
