import { recordAudit } from '../audit/audit.js';
import type { Queryable } from '../db/types.js';
import { SETTINGS, type SettingKey } from './definitions.js';

/** A value the setting's schema refuses; `message` names what is wrong. */
export class InvalidSettingError extends Error {
  override name = 'InvalidSettingError';
}

/**
 * Validates and stores a setting, auditing old and new values in the same transaction
 * (pass the transaction client). Returns the stored value.
 */
export async function updateSetting(db: Queryable, key: SettingKey, value: unknown, actor: { userId: string; ip?: string | null }): Promise<unknown> {
  const parsed = SETTINGS[key].schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `value.${issue.path.join('.')}` : 'value';
    throw new InvalidSettingError(`${key}: ${where} ${issue.message.replace(/^Invalid input: /, '')}`);
  }
  const { rows } = await db.query<{ value: unknown }>(`SELECT value FROM system_config WHERE key = $1 FOR UPDATE`, [key]);
  await db.query(
    `INSERT INTO system_config (key, value, description, updated_by, updated_at) VALUES ($1, $2::jsonb, $3, $4, now())
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [key, JSON.stringify(parsed.data), SETTINGS[key].description, actor.userId],
  );
  await recordAudit(db, {
    userId: actor.userId,
    action: 'config.update',
    entityType: 'system_config',
    entityId: key,
    details: { from: rows[0]?.value ?? null, to: parsed.data },
    ip: actor.ip ?? null,
  });
  return parsed.data;
}
