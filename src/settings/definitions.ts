import { z } from 'zod';
import type { Config } from '../config.js';

/**
 * A whole number from `min` to `max`, as one rule that both sides follow: `schema` is how
 * TypeScript checks a value, `sql(jsonb)` how a statement reads one straight from
 * system_config (the value as float8 when the jsonb expression holds a valid one, else
 * NULL), for statements that must see an admin's change at once rather than a cached copy.
 */
function wholeNumber(min: number, max: number) {
  return {
    schema: z.number().int().min(min).max(max),
    sql: (jsonb: string) =>
      // the CASE comes first so that a string value is never cast to numeric
      `(SELECT n::float8 FROM (SELECT CASE WHEN jsonb_typeof(${jsonb}) = 'number' THEN (${jsonb})::numeric END AS n) v
         WHERE n BETWEEN ${min} AND ${max} AND n = trunc(n))`,
  };
}

const seconds = () => wholeNumber(1, 3600);

/** One setting: what it is for, the rule its values follow, and its default from the environment. */
function setting<R extends { schema: z.ZodType }>(description: string, rule: R, fromEnv: (c: Config) => z.infer<R['schema']>) {
  return { description, ...rule, fromEnv };
}
/** Defaults of the alert settings that SQL reads straight from system_config. */
export const REALERT_AFTER_MINUTES_DEFAULT = 30;
export const ALERT_DIGEST_SECONDS_DEFAULT = 60;
export const ALERT_DAILY_CAP_DEFAULT = 20;
/**
 * How long rows that only grow are kept (src/jobs/retention.ts). Alerts are for acting on a
 * slot within days; 90 days answers "was I told?". A booking's history and the audit log
 * answer complaints, chargebacks and "who did this?" long after the test, so two years.
 * A processed release is only the matcher's outbox row (its alerts keep their own copy of
 * the id); a slot long past matters only while an appointment still points at it, and
 * those are always kept.
 */
export const ALERT_RETENTION_DAYS_DEFAULT = 90;
export const EVENT_RETENTION_DAYS_DEFAULT = 730;
export const AUDIT_RETENTION_DAYS_DEFAULT = 730;
export const RELEASE_RETENTION_DAYS_DEFAULT = 30;
export const SLOT_RETENTION_DAYS_DEFAULT = 365;

/** Default of the booking setting that SQL reads straight from system_config. */
export const REHOLD_COOLDOWN_SECONDS_DEFAULT = 60;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour, Europe/London)');

/**
 * Runtime settings an admin may change through /api/admin/config/:key. Each has a schema
 * for its value and a default taken from the environment, used while system_config has no
 * row for it. Running processes re-read them (src/settings/settings.ts), so a change takes
 * effect without a restart.
 */
export const SETTINGS = {
  hold_minutes: setting('How long a hold lasts before it expires', wholeNumber(1, 60), (c) => c.HOLD_MINUTES),
  hold_sweep_seconds: setting('How often expired holds are swept', seconds(), (c) => c.HOLD_SWEEP_SECONDS),
  rehold_cooldown_seconds: setting(
    'Seconds after a hold ends unconfirmed (expired or cancelled) before the same learner may hold that slot again, so the release reaches others first (0 turns it off)',
    wholeNumber(0, 3600),
    () => REHOLD_COOLDOWN_SECONDS_DEFAULT,
  ),
  release_poll_seconds: setting('How often released slots are polled when no notification wakes the poller', seconds(), (c) => c.RELEASE_POLL_SECONDS),
  send_rate_email_per_second: setting('Most emails sent per second, across all workers', wholeNumber(1, 100_000), (c) => c.DELIVERY_EMAIL_PER_SECOND),
  send_rate_push_per_second: setting('Most pushes sent per second, across all workers', wholeNumber(1, 100_000), (c) => c.DELIVERY_PUSH_PER_SECOND),
  alert_digest_seconds: setting(
    'Seconds after a message to a learner during which further alerts gather into one digest (0 turns digests off)',
    wholeNumber(0, 3600),
    () => ALERT_DIGEST_SECONDS_DEFAULT,
  ),
  alert_daily_cap: setting('Most messages a learner gets per Europe/London day (they may set a lower cap)', wholeNumber(1, 1000), () => ALERT_DAILY_CAP_DEFAULT),
  realert_after_minutes: setting(
    'Minutes after an alert for a slot before the same learner is alerted again when that slot comes back',
    wholeNumber(0, 10_080),
    () => REALERT_AFTER_MINUTES_DEFAULT,
  ),
  alert_retention_days: setting(
    'Days an alert (and the message that carried it) is kept; alerts go a week at a time, once the newest in their week is this old',
    wholeNumber(7, 3650),
    () => ALERT_RETENTION_DAYS_DEFAULT,
  ),
  event_retention_days: setting(
    "Days a booking's history (appointment_events) is kept; it goes a month at a time",
    wholeNumber(90, 3650),
    () => EVENT_RETENTION_DAYS_DEFAULT,
  ),
  audit_retention_days: setting('Days the audit log is kept; it goes a month at a time', wholeNumber(90, 3650), () => AUDIT_RETENTION_DAYS_DEFAULT),
  release_retention_days: setting('Days a processed slot release (the matching outbox) is kept', wholeNumber(1, 3650), () => RELEASE_RETENTION_DAYS_DEFAULT),
  slot_retention_days: setting(
    'Days after a slot started before it is deleted with its releases and alerts; slots an appointment refers to are kept',
    wholeNumber(30, 3650),
    () => SLOT_RETENTION_DAYS_DEFAULT,
  ),
  quiet_hours_default: setting(
    'Quiet hours {start, end} (HH:MM, Europe/London) for users who set none, or null',
    { schema: z.object({ start: hhmm, end: hhmm }).strict().refine((q) => q.start !== q.end, 'start and end must differ').nullable() },
    (): { start: string; end: string } | null => null,
  ),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = z.infer<(typeof SETTINGS)[K]['schema']>;
export type Settings = { [K in SettingKey]: SettingValue<K> };

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

/** The settings whose rule SQL can apply too. */
export type NumericSettingKey = { [K in SettingKey]: (typeof SETTINGS)[K] extends { sql: unknown } ? K : never }[SettingKey];

/**
 * SQL for a numeric setting's value now: its system_config row when the setting's rule
 * allows it (the same rule readSettings applies), else `fallback`, an SQL expression for
 * the environment default (usually a parameter).
 */
export function settingSql(key: NumericSettingKey, fallback: string): string {
  return `coalesce((SELECT ${SETTINGS[key].sql('c.value')} FROM system_config c WHERE c.key = '${key}'), ${fallback})`;
}
