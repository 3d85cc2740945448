import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import cliProgress from 'cli-progress';
import { createPool } from '../../db/pool.js';
import { upsertCenters, type NewCenter } from '../../slots/centers.js';
import { UsageError, type Command } from '../command.js';

const BATCH = 200;
const REQUIRED = ['id', 'name', 'latitude', 'longitude', 'postcode'];

type Row = Record<string, string>;

/** A DVSA row as a centre, or the reason it cannot be one. */
export function centerFromRow(row: Row): (NewCenter & { externalId: string }) | string {
  const id = row.id?.trim() ?? '';
  const name = row.name?.trim() ?? '';
  const postcode = row.postcode?.trim() ?? '';
  const latitude = Number(row.latitude);
  const longitude = Number(row.longitude);
  if (!/^[A-Za-z0-9_-]{1,60}$/.test(id)) return 'id is missing or not a plain identifier';
  if (!name || name.length > 200) return 'name is missing or longer than 200 characters';
  if (postcode.length < 2 || postcode.length > 10) return 'postcode must be 2 to 10 characters';
  if (!row.latitude?.trim() || !Number.isFinite(latitude) || latitude < -90 || latitude > 90) return 'latitude must be a number from -90 to 90';
  if (!row.longitude?.trim() || !Number.isFinite(longitude) || longitude < -180 || longitude > 180) return 'longitude must be a number from -180 to 180';
  const address = [1, 2, 3, 4, 5].map((i) => row[`addrLine${i}`]?.trim()).filter(Boolean).join(', ') || null;
  // namespaced: other sources (slot feeds) may number their centres too
  return { externalId: `dvsa:${id}`, name, postcode, latitude, longitude, address };
}

/** `centers:import FILE.csv`: loads DVSA-format centres idempotently (by id) with a summary line. */
export const centersImport: Command = {
  name: 'centers:import',
  usage: 'FILE.csv   (columns id,name,latitude,longitude,addrLine1..5,postcode)',
  async run(args, config) {
    const file = args[0];
    if (!file || args.length > 1) throw new UsageError('give one CSV file');
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new UsageError(`cannot read ${file}`);
    }

    const bar = process.stdout.isTTY ? new cliProgress.SingleBar({ format: 'importing [{bar}] {percentage}% | {value}/{total} bytes' }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(size, 0);
    const input = createReadStream(file);
    input.on('data', () => bar?.update(input.bytesRead));
    const parser = input.pipe(parse({ columns: (header: string[]) => header.map((h) => h.trim()), bom: true, skip_empty_lines: true, trim: true, relax_column_count: true }));

    const pool = createPool(config.DATABASE_DIRECT_URL, { max: 1, applicationName: 'slotwatch-cli' });
    const totals = { rows: 0, created: 0, updated: 0, unchanged: 0, skipped: 0 };
    const problems: string[] = [];
    const seen = new Set<string>();
    let batch: (NewCenter & { externalId: string })[] = [];
    const flush = async () => {
      const counts = await upsertCenters(pool, batch);
      totals.created += counts.created;
      totals.updated += counts.updated;
      totals.unchanged += counts.unchanged;
      batch = [];
    };
    try {
      let checkedHeader = false;
      for await (const row of parser as AsyncIterable<Row>) {
        if (!checkedHeader) {
          const missing = REQUIRED.filter((c) => !(c in row));
          if (missing.length) throw new UsageError(`${file} lacks column(s) ${missing.join(', ')}`);
          checkedHeader = true;
        }
        totals.rows++;
        const line = totals.rows + 1; // the header is line 1
        const center = centerFromRow(row);
        if (typeof center === 'string') {
          totals.skipped++;
          problems.push(`line ${line}: ${center}`);
        } else if (seen.has(center.externalId)) {
          totals.skipped++;
          problems.push(`line ${line}: id ${row.id} appears twice; the first is kept`);
        } else {
          seen.add(center.externalId);
          batch.push(center);
          if (batch.length >= BATCH) await flush();
        }
      }
      await flush();
    } finally {
      bar?.update(size);
      bar?.stop();
      await pool.end();
    }
    for (const p of problems.slice(0, 20)) console.error(`centers:import: skipped ${p}`);
    if (problems.length > 20) console.error(`centers:import: ... and ${problems.length - 20} more skipped`);
    console.log(
      `centers:import: ${totals.rows} rows: ${totals.created} created, ${totals.updated} updated, ${totals.unchanged} unchanged, ${totals.skipped} skipped`,
    );
    return totals.skipped ? 1 : 0;
  },
};
