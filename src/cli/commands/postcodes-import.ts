import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import cliProgress from 'cli-progress';
import { parse } from 'csv-parse/sync';
import { createPool } from '../../db/pool.js';
import { importPostcodes, PostcodeFileError, type PostcodeColumns } from '../../watches/postcode-import.js';
import { UsageError, type Command } from '../command.js';

/** The layouts we know, by header names: the shared file's, then ONS NSPL/ONSPD's (pcds preferred to the fixed-width pcd). */
const LAYOUTS: { postcode: string[]; latitude: string; longitude: string }[] = [
  { postcode: ['postcode'], latitude: 'latitude', longitude: 'longitude' },
  { postcode: ['pcds', 'pcd'], latitude: 'lat', longitude: 'long' },
];

/** Which columns of `header` hold the postcode and its point, or null when it is no layout we know. */
export function columnsOf(header: string[]): PostcodeColumns | null {
  const names = header.map((h) => h.replace(/^\uFEFF/, '').trim().toLowerCase());
  for (const layout of LAYOUTS) {
    const postcode = layout.postcode.map((n) => names.indexOf(n)).find((i) => i >= 0);
    const latitude = names.indexOf(layout.latitude);
    const longitude = names.indexOf(layout.longitude);
    if (postcode !== undefined && latitude >= 0 && longitude >= 0) return { postcode, latitude, longitude };
  }
  return null;
}

/** The file's bytes as CSV text, gunzipped when it ends in .gz. */
function openCsv(file: string, onBytes?: (bytesRead: number) => void): Readable {
  const raw = createReadStream(file);
  if (onBytes) raw.on('data', () => onBytes(raw.bytesRead));
  // piped even when there is nothing to unpack: the byte counter's 'data' listener would
  // otherwise let the file flow away before the COPY is ready for it
  const out = file.toLowerCase().endsWith('.gz') ? createGunzip() : new PassThrough();
  return raw.pipe(out).on('error', () => raw.destroy());
}

/** The first line of the file, parsed as CSV: its header. */
async function readHeader(file: string): Promise<string[]> {
  const stream = openCsv(file);
  let text = '';
  try {
    for await (const chunk of stream) {
      text += String(chunk);
      if (text.includes('\n') || text.length > 65_536) break;
    }
  } catch (err) {
    throw new UsageError(`${file} cannot be read as ${file.toLowerCase().endsWith('.gz') ? 'gzip' : 'text'}: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  const first = text.split(/\r?\n/)[0] ?? '';
  try {
    return (parse(first) as string[][])[0] ?? [];
  } catch {
    throw new UsageError(`${file}: the first line is not a CSV header`);
  }
}

/** `postcodes:import FILE`: replaces the postcodes table with a .csv or .csv.gz of full postcodes, all or nothing. */
export const postcodesImport: Command = {
  name: 'postcodes:import',
  usage: 'FILE.csv[.gz]   (columns postcode,latitude,longitude; or ONS NSPL/ONSPD: pcds (or pcd), lat, long; other columns are ignored)',
  async run(args, config) {
    const file = args[0];
    if (!file || args.length > 1) throw new UsageError('give one file');
    if (!/\.csv(\.gz)?$/i.test(file)) throw new UsageError(`${file} is not a .csv or .csv.gz file`);
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
    } catch {
      throw new UsageError(`cannot read ${file}`);
    }
    const header = await readHeader(file);
    const columns = columnsOf(header);
    if (!columns) {
      throw new UsageError(
        `${file} has neither the columns postcode,latitude,longitude nor ONS's pcds (or pcd), lat, long; its header is: ${header.join(',').slice(0, 200) || '(empty)'}`,
      );
    }

    const started = performance.now();
    const bar = process.stdout.isTTY
      ? new cliProgress.SingleBar({ format: 'postcodes:import [{bar}] {percentage}% | {phase}', hideCursor: true }, cliProgress.Presets.shades_classic)
      : undefined;
    bar?.start(size, 0, { phase: 'loading' });
    const pool = createPool(config.DATABASE_DIRECT_URL, { max: 1, applicationName: 'slotwatch-cli' });
    let counts;
    try {
      const client = await pool.connect();
      try {
        counts = await importPostcodes(client, openCsv(file, (n) => bar?.update(n)), header.length, columns, (phase) => bar?.update(size, { phase }));
      } finally {
        client.release();
      }
    } catch (err) {
      bar?.stop();
      if (err instanceof PostcodeFileError) {
        console.error(`postcodes:import: ${file} ${err.message}; nothing was imported`);
        return 1;
      }
      if ((err as { code?: string }).code === 'Z_DATA_ERROR' || (err as { code?: string }).code === 'Z_BUF_ERROR') {
        console.error(`postcodes:import: ${file} is not a complete gzip file (${(err as Error).message}); nothing was imported`);
        return 1;
      }
      throw err;
    } finally {
      await pool.end();
    }
    bar?.update(size, { phase: 'done' });
    bar?.stop();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`postcodes:import: ${counts.imported} postcodes imported, ${counts.skipped} skipped (no coordinates), in ${seconds} s`);
    return 0;
  },
};
