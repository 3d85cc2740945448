import type { Config } from '../config.js';
import type { Queryable } from '../db/types.js';
import { log } from '../log.js';
import { isSettingKey, SETTINGS, type SettingKey, type Settings, type SettingValue } from './definitions.js';

export interface SettingRow<K extends SettingKey = SettingKey> {
  key: K;
  value: SettingValue<K>;
  source: 'database' | 'environment';
  description: string;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** Every setting's effective value: the system_config row when valid, else the environment default. */
export async function readSettings(db: Queryable, config: Config): Promise<Record<SettingKey, SettingRow>> {
  const { rows } = await db.query<{ key: string; value: unknown; updated_at: Date; updated_by: string | null }>(
    `SELECT key, value, updated_at, updated_by FROM system_config`,
  );
  const stored = new Map(rows.map((r) => [r.key, r]));
  const out = {} as Record<SettingKey, SettingRow>;
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const def = SETTINGS[key];
    const row = stored.get(key);
    const parsed = row ? def.schema.safeParse(row.value) : undefined;
    if (row && !parsed?.success) log.warn({ key }, 'system_config holds an invalid value; using the default');
    out[key] = {
      key,
      value: (parsed?.success ? parsed.data : def.fromEnv(config)) as SettingValue<typeof key>,
      source: parsed?.success ? 'database' : 'environment',
      description: def.description,
      updatedAt: parsed?.success ? row!.updated_at : null,
      updatedBy: parsed?.success ? row!.updated_by : null,
    } as SettingRow;
  }
  return out;
}

/**
 * Settings for a running process, re-read from the database at most every `ttlMs`, so an
 * admin's change reaches every worker within that time without a restart. A database
 * error keeps the last values (or the environment defaults) rather than failing the caller.
 */
export class SettingsCache {
  private values: Settings | undefined;
  private loadedAt = 0;
  private loading: Promise<Settings> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly config: Config,
    private readonly ttlMs = 5000,
  ) {}

  /** All current values. */
  async all(): Promise<Settings> {
    if (this.values && Date.now() - this.loadedAt < this.ttlMs) return this.values;
    this.loading ??= readSettings(this.db, this.config)
      .then((rows) => {
        this.values = Object.fromEntries(Object.entries(rows).map(([k, r]) => [k, r.value])) as Settings;
        this.loadedAt = Date.now();
        return this.values;
      })
      .catch((err: unknown) => {
        log.warn({ err }, 'could not read system_config; keeping the last settings');
        return this.values ?? defaults(this.config);
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** One current value. */
  async get<K extends SettingKey>(key: K): Promise<Settings[K]> {
    return (await this.all())[key];
  }
}

/** The environment defaults of every setting. */
export function defaults(config: Config): Settings {
  return Object.fromEntries((Object.keys(SETTINGS) as SettingKey[]).map((k) => [k, SETTINGS[k].fromEnv(config)])) as Settings;
}

export { isSettingKey };
