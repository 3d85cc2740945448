/**
 * A numeric setting's rule is written once and followed on both sides: the values
 * TypeScript accepts (readSettings, PUT /api/admin/config/:key) are exactly the values the
 * SQL that reads system_config directly accepts (a hold's length).
 */
import { describe, expect, it } from 'vitest';
import { SETTINGS, settingSql, type NumericSettingKey } from '../../src/settings/definitions.js';
import { useTestContext } from '../helpers/context.js';

const CANDIDATES: unknown[] = [0, 1, 2, 2.5, 5, 5.0, 59.999, 60, 61, 3600, 3601, 100_000, 100_001, -1, 1e20, '5', true, null, [5], { minutes: 5 }];
const NUMERIC = (Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]).filter((k): k is NumericSettingKey => 'sql' in SETTINGS[k]);

describe('settings rules', () => {
  const ctx = useTestContext();

  it.each(NUMERIC)('%s: SQL accepts exactly what TypeScript accepts', async (key) => {
    for (const value of CANDIDATES) {
      const ts = SETTINGS[key].schema.safeParse(value).success;
      await ctx.pool.query(`INSERT INTO system_config (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [
        key,
        JSON.stringify(value),
      ]);
      const { rows } = await ctx.pool.query<{ v: number }>(`SELECT ${settingSql(key, '-1::float8')} AS v`);
      expect({ value, sql: rows[0]!.v !== -1 }).toEqual({ value, sql: ts });
      if (ts) expect(rows[0]!.v).toBe(value);
    }
    await ctx.pool.query(`DELETE FROM system_config WHERE key = $1`, [key]);
  });
});
