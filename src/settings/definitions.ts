import { z } from 'zod';
import type { Config } from '../config.js';

const seconds = z.number().int().min(1).max(3600);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour, Europe/London)');

/**
 * Runtime settings an admin may change through /api/admin/config/:key. Each has a schema
 * for its value and a default taken from the environment, used while system_config has no
 * row for it. Running processes re-read them (src/settings/settings.ts), so a change takes
 * effect without a restart.
 */
export const SETTINGS = {
  hold_minutes: {
    description: 'How long a hold lasts before it expires',
    schema: z.number().int().min(1).max(60),
    fromEnv: (c: Config) => c.HOLD_MINUTES,
  },
  hold_sweep_seconds: {
    description: 'How often expired holds are swept',
    schema: seconds,
    fromEnv: (c: Config) => c.HOLD_SWEEP_SECONDS,
  },
  release_poll_seconds: {
    description: 'How often released slots are polled when no notification wakes the poller',
    schema: seconds,
    fromEnv: (c: Config) => c.RELEASE_POLL_SECONDS,
  },
  send_rate_email_per_second: {
    description: 'Most emails sent per second, across all workers',
    schema: z.number().int().min(1).max(100_000),
    fromEnv: (c: Config) => c.DELIVERY_EMAIL_PER_SECOND,
  },
  send_rate_push_per_second: {
    description: 'Most pushes sent per second, across all workers',
    schema: z.number().int().min(1).max(100_000),
    fromEnv: (c: Config) => c.DELIVERY_PUSH_PER_SECOND,
  },
  quiet_hours_default: {
    description: 'Quiet hours {start, end} (HH:MM, Europe/London) for users who set none, or null',
    schema: z.object({ start: hhmm, end: hhmm }).strict().refine((q) => q.start !== q.end, 'start and end must differ').nullable(),
    fromEnv: (): { start: string; end: string } | null => null,
  },
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = z.infer<(typeof SETTINGS)[K]['schema']>;
export type Settings = { [K in SettingKey]: SettingValue<K> };

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}
