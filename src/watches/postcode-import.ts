/**
 * Loads a file of full postcodes into the postcodes table, replacing what it held: the one
 * writer of that table. The file's bytes go to PostgreSQL by COPY (pg-copy-streams), which
 * parses the CSV far faster than JavaScript could, into a temporary table of text columns,
 * one per column of the file, and the table is replaced from it by one INSERT whose casts
 * and the table's constraints check every row; only when one refuses is the file searched
 * for the first bad line, to name it. It all happens in one transaction, so a failure at any point (a
 * malformed row, a duplicate postcode, a broken stream) leaves the table as it was, and
 * importing the same file again leaves the same table. Readers of postcodes wait only for
 * the last step (the TRUNCATE and INSERT), not for the COPY and the checks.
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { sqlState } from '../db/types.js';

/** Which of the file's columns (0-based, in its header's order) hold what. */
export interface PostcodeColumns {
  postcode: number;
  latitude: number;
  longitude: number;
}

/** A row of the file that cannot be imported, by its line number (the header is line 1). */
export class PostcodeFileError extends Error {
  override name = 'PostcodeFileError';
  constructor(
    readonly line: number | null,
    message: string,
  ) {
    super(line === null ? message : `line ${line}: ${message}`);
  }
}

export interface ImportCounts {
  imported: number;
  /** Rows with no coordinates (ONS files keep postcodes with no grid reference, at latitude 99.999999). */
  skipped: number;
}

// kept in step with normalisePostcode (postcodes.ts) and the postcodes_shape constraint
const COMPACT_SHAPE = '^(GIR0AA|NPT[0-9][A-Z]{2}|[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2})$';
const DECIMAL = '^\\s*[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)\\s*$';

/**
 * Replaces the postcodes table with the rows of `source`, a CSV stream whose first line is
 * the header (`width` columns); `columns` says which hold the postcode, latitude and
 * longitude. Runs its own transaction on `client`. Throws PostcodeFileError for the first
 * row that cannot be imported, having changed nothing.
 */
export async function importPostcodes(
  client: pg.ClientBase,
  source: Readable,
  width: number,
  columns: PostcodeColumns,
  onPhase: (phase: 'writing' | 'checking') => void = () => {},
): Promise<ImportCounts> {
  const names = Array.from({ length: width }, (_, i) => `c${i}`);
  const pc = `c${columns.postcode}`;
  const lat = `c${columns.latitude}`;
  const lon = `c${columns.longitude}`;
  // a row with no coordinates: either left empty, or ONS's "no grid reference" marker
  const noPoint = `(coalesce(btrim(${lat}), '') = '' OR coalesce(btrim(${lon}), '') = '' OR btrim(${lat}) = '99.999999')`;
  const compact = `upper(replace(btrim(${pc}), ' ', ''))`;

  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL work_mem = '256MB'`);
    // `n` numbers the rows in the file's order: line n + 1, after the header
    await client.query(
      `CREATE TEMPORARY TABLE postcode_file (n bigint GENERATED ALWAYS AS IDENTITY, ${names.map((c) => `${c} text`).join(', ')}) ON COMMIT DROP`,
    );
    const copy = client.query(copyFrom(`COPY postcode_file (${names.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`));
    try {
      await pipeline(source, copy);
    } catch (err) {
      throw copyProblem(err);
    }

    onPhase('writing');
    await client.query('SAVEPOINT replace');
    let imported: number;
    try {
      await client.query('TRUNCATE postcodes');
      // optimistic: the casts and the table's constraints check every row as it is written,
      // and only when one refuses is the file searched for the first bad line. In key order,
      // so the primary key's B-tree is filled page by page.
      const result = await client.query(
        `INSERT INTO postcodes (postcode, latitude, longitude)
         SELECT left(${compact}, -3) || ' ' || right(${compact}, 3), ${lat}::float8, ${lon}::float8
           FROM postcode_file
          WHERE NOT ${noPoint}
          ORDER BY 1`,
      );
      imported = result.rowCount ?? 0;
    } catch (err) {
      // data exceptions (a cast) and integrity violations (shape, range, duplicate) are the file's
      if (!/^2[23]/.test(sqlState(err) ?? '')) throw err;
      await client.query('ROLLBACK TO SAVEPOINT replace');
      onPhase('checking');
      throw (await firstBadRow(client, pc, lat, lon, compact, noPoint)) ?? (await duplicate(client, compact, noPoint)) ?? err;
    }
    if (imported === 0) throw new PostcodeFileError(null, 'the file has no postcode with coordinates: refusing to empty the postcodes table');
    await client.query('COMMIT');
    return { imported, skipped: copy.rowCount - imported };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** The first row (in the file's order) whose postcode or point is malformed, as an error naming its line; null when there is none. */
async function firstBadRow(client: pg.ClientBase, pc: string, lat: string, lon: string, compact: string, noPoint: string): Promise<PostcodeFileError | null> {
  // CASE, unlike OR, tests in order: a value is cast only once it is known to be a number
  const bad = await client.query<{ line: string; problem: string }>(
    `SELECT n + 1 AS line, problem FROM (
       SELECT n, CASE
                WHEN ${noPoint} THEN NULL
                WHEN ${pc} IS NULL OR ${compact} !~ '${COMPACT_SHAPE}' THEN 'postcode ' || coalesce('"' || ${pc} || '"', '(empty)') || ' is not a UK postcode'
                WHEN ${lat} !~ '${DECIMAL}' THEN 'latitude "' || ${lat} || '" is not a number'
                WHEN ${lon} !~ '${DECIMAL}' THEN 'longitude "' || ${lon} || '" is not a number'
                WHEN NOT ${lat}::float8 BETWEEN -90 AND 90 THEN 'latitude ' || btrim(${lat}) || ' is not between -90 and 90'
                WHEN NOT ${lon}::float8 BETWEEN -180 AND 180 THEN 'longitude ' || btrim(${lon}) || ' is not between -180 and 180'
              END AS problem
         FROM postcode_file) checked
      WHERE problem IS NOT NULL
      ORDER BY n
      LIMIT 1`,
  );
  return bad.rows[0] ? new PostcodeFileError(Number(bad.rows[0].line), bad.rows[0].problem) : null;
}

/** The first postcode given twice, as an error naming both lines; null when there is none. */
async function duplicate(client: pg.ClientBase, compact: string, noPoint: string): Promise<PostcodeFileError | null> {
  const { rows } = await client.query<{ postcode: string; first: string; again: string }>(
    `SELECT postcode, first + 1 AS first, again + 1 AS again FROM (
       SELECT left(${compact}, -3) || ' ' || right(${compact}, 3) AS postcode, min(n) AS first, (array_agg(n ORDER BY n))[2] AS again
         FROM postcode_file WHERE NOT ${noPoint} GROUP BY 1 HAVING count(*) > 1) d
      ORDER BY again LIMIT 1`,
  );
  const d = rows[0];
  return d ? new PostcodeFileError(Number(d.again), `postcode ${d.postcode} is given again (first on line ${d.first})`) : null;
}

/** What COPY refused, with the line PostgreSQL names (the file's own line, the header counted). */
function copyProblem(err: unknown): Error {
  const e = err as { code?: string; message?: string; where?: string };
  if (!e.code || !/^22/.test(e.code)) return err as Error; // not the file's fault: a stream or connection failure
  const line = /line (\d+)/.exec(e.where ?? '')?.[1];
  const what = /^(extra data after last expected column|missing data for column)/.test(e.message ?? '')
    ? 'the row does not have as many fields as the header'
    : (e.message ?? 'the row is not valid CSV');
  return new PostcodeFileError(line ? Number(line) : null, what);
}
