/**
 * `npm run bench -- postcodes [--file PATH] [--lookups 20000] [--keep]`: the full postcode
 * file (../shared/data/uk-postcodes.csv.gz, 2.69 million rows) imported by the real CLI
 * command (`postcodes:import`, a child process, as an operator runs it) into a database of
 * its own, first into the empty table and then again over the full one (the idempotent
 * re-run). Beside it, the floor measured in the same run: a bare COPY of the same bytes into
 * an unindexed, unlogged table of text columns (what moving the file into PostgreSQL costs
 * before anything is checked, normalised or indexed).
 *
 * Then lookups, one at a time on one connection, as a watch is placed (`locatePostcode`):
 * random imported postcodes (a probe of the primary key), random well-formed postcodes that
 * are not imported (a probe that misses, then the outward code's centre in memory), beside
 * `SELECT 1` as a named statement (the round trip every query pays) and, on a few hundred,
 * the same lookup with index scans switched off (what the primary key saves). Goals: import
 * under 60 s, lookups under 1 ms p99. Figures go to bench/results/postcodes.json.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { migrate } from '../src/db/migrate.js';
import { withDatabase } from '../src/db/urls.js';
import { log } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import { seededRandom } from '../src/random.js';
import { locatePostcode } from '../src/watches/postcodes.js';
import { arg } from './_args.js';

const run = promisify(execFile);

interface Latency {
  n: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

function latency(samplesMs: number[]): Latency {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 1000);
  return { n: s.length, p50Us: at(0.5), p99Us: at(0.99), maxUs: Math.round(s[s.length - 1]! * 1000) };
}

async function timeEach<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (const item of items) {
    const t0 = performance.now();
    await fn(item);
    out.push(performance.now() - t0);
  }
  return out;
}

/** The CLI as an operator runs it; seconds by the wall clock (process start included) and its summary line. */
async function cliImport(url: string, file: string): Promise<{ seconds: number; summary: string }> {
  const t0 = performance.now();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'postcodes:import', file], {
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' },
    maxBuffer: 1 << 24,
  });
  return { seconds: (performance.now() - t0) / 1000, summary: stdout.trim().split('\n').pop() ?? '' };
}

/** The floor: the same bytes by COPY into a bare table, nothing checked or indexed. */
async function bareCopy(client: pg.Client, file: string): Promise<number> {
  await client.query(`CREATE UNLOGGED TABLE bench_bare_copy (postcode text, latitude text, longitude text)`);
  const t0 = performance.now();
  const source = createReadStream(file);
  await pipeline(file.endsWith('.gz') ? source.pipe(createGunzip()) : source, client.query(copyFrom(`COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)`)));
  const seconds = (performance.now() - t0) / 1000;
  await client.query(`DROP TABLE bench_bare_copy`);
  return seconds;
}

const fmt = (l: Latency) => `p50 ${l.p50Us} us, p99 ${l.p99Us} us, max ${l.maxUs} us (${l.n})`;

export default async function main(args: string[]): Promise<void> {
  const file = arg(args, '--file', join(projectRoot, '..', 'shared', 'data', 'uk-postcodes.csv.gz'));
  const lookups = Number(arg(args, '--lookups', '20000'));
  if (!existsSync(file)) {
    console.error(`bench postcodes: ${file} is missing (give another with --file)`);
    process.exitCode = 2;
    return;
  }
  log.level = 'warn';
  const adminUrl = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const database = `sw_bench_postcodes_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabase(adminUrl, database);
  const client = new pg.Client({ connectionString: url, application_name: 'slotwatch-bench-postcodes' });
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    await client.connect();
    console.log(`bench postcodes: ${file}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    const floorSeconds = await bareCopy(client, file);
    console.log(`  floor: bare COPY of the same bytes (unindexed, unlogged, text): ${floorSeconds.toFixed(1)} s`);
    const first = await cliImport(url, file);
    console.log(`  import into the empty table: ${first.seconds.toFixed(1)} s wall clock (goal < 60 s), ${(first.seconds / floorSeconds).toFixed(2)}x the floor`);
    console.log(`    ${first.summary}`);
    const again = await cliImport(url, file);
    console.log(`  import again over the full table: ${again.seconds.toFixed(1)} s, ${(again.seconds / floorSeconds).toFixed(2)}x the floor`);
    console.log(`    ${again.summary}`);
    const { rows: size } = await client.query<{ rows: string; mb: string }>(
      `SELECT count(*) AS rows, round(pg_total_relation_size('postcodes') / 1048576.0, 1) AS mb FROM postcodes`,
    );
    await client.query('ANALYZE postcodes');

    // the postcodes to look up: a seeded draw of imported ones, and as many of the same
    // outward codes that are not imported (an inward code no UK postcode uses: 9ZZ... are rare)
    await client.query(`SELECT setseed(0.13)`);
    const { rows: drawn } = await client.query<{ postcode: string }>(
      `SELECT postcode FROM postcodes TABLESAMPLE BERNOULLI (2) REPEATABLE (13) ORDER BY random() LIMIT $1::int`,
      [lookups],
    );
    const hits = drawn.map((r) => r.postcode);
    const random = seededRandom(13);
    const misses: string[] = [];
    for (const pc of hits) {
      const candidate = `${pc.split(' ')[0]} ${Math.floor(random() * 10)}ZZ`;
      if ((await client.query(`SELECT 1 FROM postcodes WHERE postcode = $1`, [candidate])).rowCount === 0) misses.push(candidate);
    }

    // warm: plans prepared, pages cached, as in a running web process
    for (const pc of hits.slice(0, 500)) await locatePostcode(client, pc);
    const select1 = latency(await timeEach(hits, () => client.query({ name: 'bench-select-1', text: 'SELECT 1' })));
    const hit = latency(await timeEach(hits, (pc) => locatePostcode(client, pc)));
    const miss = latency(await timeEach(misses, (pc) => locatePostcode(client, pc)));
    const sampleCheck = (await locatePostcode(client, hits[0]!))?.precision;
    // the probe alone, timed inside the server (no round trip, no client): what the index costs
    await client.query(`CREATE TEMPORARY TABLE bench_probe (us float8)`);
    await client.query(
      `DO $$
       DECLARE pc text; t0 timestamptz; lat float8;
       BEGIN
         FOREACH pc IN ARRAY (SELECT array_agg(postcode) FROM (SELECT postcode FROM postcodes TABLESAMPLE BERNOULLI (1) REPEATABLE (7) LIMIT ${Math.floor(lookups)}) s) LOOP
           t0 := clock_timestamp();
           SELECT latitude INTO lat FROM postcodes WHERE postcode = pc;
           INSERT INTO bench_probe VALUES (extract(epoch FROM clock_timestamp() - t0) * 1e6);
         END LOOP;
       END $$`,
    );
    const { rows: inServer } = await client.query<{ p50: number; p99: number; max: number; n: number }>(
      `SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us))::int AS p50, round(percentile_cont(0.99) WITHIN GROUP (ORDER BY us))::int AS p99,
              round(max(us))::int AS max, count(*)::int AS n FROM bench_probe`,
    );
    const probe: Latency = { n: inServer[0]!.n, p50Us: inServer[0]!.p50, p99Us: inServer[0]!.p99, maxUs: inServer[0]!.max };
    await client.query(`SET enable_indexscan = off`);
    await client.query(`SET enable_bitmapscan = off`);
    await client.query(`SET enable_indexonlyscan = off`);
    const noIndexItems = hits.slice(0, 200);
    const noIndex = latency(await timeEach(noIndexItems, (pc) => client.query('SELECT latitude, longitude FROM postcodes WHERE postcode = $1::text', [pc])));
    await client.query('RESET ALL');

    console.log(`  table: ${size[0]!.rows} rows, ${size[0]!.mb} MB with its primary key`);
    console.log(`  lookup of an imported postcode (locatePostcode, precision ${sampleCheck}): ${fmt(hit)} (goal p99 < 1000 us)`);
    console.log(`  the same probe timed inside PostgreSQL (no round trip): ${fmt(probe)}`);
    console.log(`  lookup of a postcode not imported (miss, then the outward code's centre): ${fmt(miss)}`);
    console.log(`  baseline SELECT 1 round trip: ${fmt(select1)}; imported lookup / SELECT 1 at p50: ${(hit.p50Us / select1.p50Us).toFixed(2)}x`);
    console.log(`  baseline without the index (sequential scan): ${fmt(noIndex)}; ${(noIndex.p50Us / hit.p50Us).toFixed(0)}x the indexed lookup at p50`);

    const dir = join(projectRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'postcodes.json'),
      JSON.stringify(
        {
          when: new Date().toISOString(),
          file,
          cpus: cpus().length,
          loadAverage: loadavg().map((l) => +l.toFixed(2)),
          rows: Number(size[0]!.rows),
          tableMB: Number(size[0]!.mb),
          import: {
            floorBareCopySeconds: +floorSeconds.toFixed(2),
            emptyTableSeconds: +first.seconds.toFixed(2),
            fullTableSeconds: +again.seconds.toFixed(2),
            emptyVsFloor: +(first.seconds / floorSeconds).toFixed(2),
            summary: first.summary,
          },
          lookups: { imported: hit, probeInServer: probe, notImported: miss, baselineSelect1: select1, baselineNoIndex: noIndex },
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nwrote bench/results/postcodes.json`);
  } finally {
    await client.end().catch(() => {});
    if (args.includes('--keep')) console.log(`kept database ${database}`);
    else await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
