/**
 * Postcodes, offline: a sample of the real postcode file (../shared/data/uk-postcodes.csv.gz,
 * drawn with a seeded random; generated from the shipped outward codes where that file is
 * absent) imported through the real CLI, then placed the way a watch is placed. Before the
 * import every postcode lands on its outward code's centre; after it, within 1 m of the
 * file's own point. The import is idempotent and all or nothing, and reads ONS's layout.
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gzipSync, createGunzip } from 'node:zlib';
import geodesic from 'geographiclib-geodesic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcodesFile, projectRoot } from '../../src/paths.js';
import { seededRandom } from '../../src/random.js';
import { locatePostcode, normalisePostcode, outwardCode } from '../../src/watches/postcodes.js';
import { parseOutcodes } from '../../src/watches/outcodes.js';
import { useTestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';

const t = useTestApp();
const cli = (...args: string[]) => runCli(args, { DATABASE_URL: t.ctx.databaseUrl, REDIS_URL: t.ctx.redisUrl }, { timeoutMs: 120_000 });
const WGS84 = geodesic.Geodesic.WGS84;
const metres = (a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }) =>
  WGS84.Inverse(a.latitude, a.longitude, b.latitude, b.longitude).s12!;

const SHARED_FILE = join(projectRoot, '..', 'shared', 'data', 'uk-postcodes.csv.gz');
const SAMPLE = 3000;
const CHECKED = 1000;
const centroids = parseOutcodes(readFileSync(outcodesFile, 'utf8'));

interface Row {
  postcode: string;
  latitude: number;
  longitude: number;
}

/** About SAMPLE rows of the shared file, each kept with the same seeded chance, in file order. */
async function sampleSharedFile(random: () => number): Promise<Row[]> {
  const total = 2_690_877;
  const rows: Row[] = [];
  let header = true;
  for await (const line of createInterface({ input: createReadStream(SHARED_FILE).pipe(createGunzip()) })) {
    if (header) {
      header = false;
      continue;
    }
    if (random() >= SAMPLE / total) continue;
    const [postcode, lat, lon] = line.split(',');
    rows.push({ postcode: postcode!, latitude: Number(lat), longitude: Number(lon) });
  }
  return rows;
}

/** Where the shared file is absent: SAMPLE made-up postcodes of real outward codes, each a little way from its centre. */
function generatedSample(random: () => number): Row[] {
  const outcodes = [...centroids.entries()].filter(([o]) => o !== 'NPT');
  const seen = new Set<string>();
  const rows: Row[] = [];
  const letters = 'ABDEFGHJLNPQRSTUWXYZ';
  while (rows.length < SAMPLE) {
    const [outcode, centre] = outcodes[Math.floor(random() * outcodes.length)]!;
    const postcode = `${outcode} ${Math.floor(random() * 10)}${letters[Math.floor(random() * 20)]}${letters[Math.floor(random() * 20)]}`;
    if (seen.has(postcode)) continue;
    seen.add(postcode);
    rows.push({ postcode, latitude: +(centre.latitude + (random() - 0.5) * 0.05).toFixed(5), longitude: +(centre.longitude + (random() - 0.5) * 0.05).toFixed(5) });
  }
  return rows;
}

const csv = (rows: Row[]) => ['postcode,latitude,longitude', ...rows.map((r) => `${r.postcode},${r.latitude},${r.longitude}`)].join('\n') + '\n';

let dir = '';
let sample: Row[] = [];
const checked: Row[] = [];

async function snapshot(): Promise<{ n: number; digest: string | null }> {
  const { rows } = await t.ctx.pool.query<{ n: number; digest: string | null }>(
    `SELECT count(*)::int AS n, md5(string_agg(postcode || ':' || latitude || ':' || longitude, ',' ORDER BY postcode)) AS digest FROM postcodes`,
  );
  return rows[0]!;
}

beforeAll(async () => {
  const random = seededRandom(13);
  sample = existsSync(SHARED_FILE) ? await sampleSharedFile(random) : generatedSample(random);
  // CHECKED of the sample, drawn without replacement
  const pool = [...sample];
  for (let i = 0; i < CHECKED; i++) checked.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
  dir = mkdtempSync(join(tmpdir(), 'sw-postcodes-'));
  writeFileSync(join(dir, 'sample.csv'), csv(sample));
  writeFileSync(join(dir, 'sample.csv.gz'), gzipSync(csv(sample)));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('postcodes, offline', () => {
  it(`draws a sample of at least ${CHECKED} postcodes (${existsSync(SHARED_FILE) ? 'from the shared file' : 'generated: the shared file is absent'})`, () => {
    expect(sample.length).toBeGreaterThanOrEqual(CHECKED);
    expect(checked).toHaveLength(CHECKED);
  });

  it('places every shipped outward code, alone or as a postcode, at its centre', async () => {
    expect(centroids.size).toBe(3077);
    for (const [outcode, centre] of centroids) {
      expect(await locatePostcode(t.ctx.pool, outcode)).toEqual({ postcode: outcode, ...centre, precision: 'outcode' });
    }
  });

  it(`places ${CHECKED} random postcodes at their outward code's centre before they are imported`, async () => {
    for (const row of checked) {
      const postcode = normalisePostcode(row.postcode.toLowerCase().replace(' ', ''))!;
      expect(postcode).toBe(row.postcode);
      const placed = await locatePostcode(t.ctx.pool, postcode);
      const centre = centroids.get(outwardCode(postcode));
      expect(centre, `${postcode}'s outward code is shipped`).toBeDefined();
      expect(placed).toMatchObject({ postcode, precision: 'outcode' });
      expect(metres(placed!, centre!)).toBeLessThan(1);
    }
  });

  it('imports the sample through the CLI (.csv.gz), with a summary line, and then places each within 1 m of its own point', async () => {
    const res = await cli('postcodes:import', join(dir, 'sample.csv.gz'));
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`postcodes:import: ${sample.length} postcodes imported, 0 skipped \\(no coordinates\\), in [0-9.]+ s`));
    let worst = 0;
    for (const row of checked) {
      const placed = await locatePostcode(t.ctx.pool, normalisePostcode(row.postcode)!);
      expect(placed, row.postcode).toMatchObject({ postcode: row.postcode, precision: 'postcode' });
      worst = Math.max(worst, metres(placed!, row));
    }
    expect(worst).toBeLessThan(1);
  });

  it('places a watch by postcode through the API with the precision it got, and answers the check route', async () => {
    const me = await t.signedIn();
    const [full] = checked;
    const watch = async (postcode: string) =>
      t.app.inject({ method: 'POST', url: '/api/me/watches', headers: t.auth(me.token), payload: { postcode, radiusMiles: 10, method: 'email', testTypes: ['practical'] } });
    const exact = await watch(` ${full!.postcode.toLowerCase()} `);
    expect(exact.statusCode).toBe(201);
    expect(exact.json().watch).toMatchObject({ postcode: full!.postcode, precision: 'postcode', location: { latitude: full!.latitude, longitude: full!.longitude } });

    const outcode = outwardCode(full!.postcode);
    const byOutcode = await watch(outcode.toLowerCase());
    expect(byOutcode.json().watch).toMatchObject({ postcode: outcode, precision: 'outcode', location: centroids.get(outcode) });
    const listed = (await t.app.inject({ method: 'GET', url: '/api/me/watches/coverage', headers: t.auth(me.token) })).json().watches;
    expect(listed.map((w: { precision: string }) => w.precision)).toEqual(['postcode', 'outcode']);

    const check = await t.app.inject({ method: 'GET', url: `/api/postcodes/${encodeURIComponent(full!.postcode.toLowerCase())}` });
    expect(check.statusCode).toBe(200);
    expect(check.json()).toEqual({ postcode: full!.postcode, latitude: full!.latitude, longitude: full!.longitude, precision: 'postcode' });
    const checkOutcode = await t.app.inject({ method: 'GET', url: `/api/postcodes/${outcode}` });
    expect(checkOutcode.json()).toEqual({ postcode: outcode, ...centroids.get(outcode), precision: 'outcode' });
  });

  it('refuses outward codes that do not exist (400 to a watch, 404 to the check) and malformed postcodes (400)', async () => {
    const me = await t.signedIn();
    for (const postcode of ['ZZ9 9ZZ', 'QQ1 1AA', 'ZZ99']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/me/watches', headers: t.auth(me.token), payload: { postcode, radiusMiles: 10, method: 'email', testTypes: ['practical'] } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('UNKNOWN_POSTCODE');
      expect(res.json().error.message).toContain(postcode);
      const check = await t.app.inject({ method: 'GET', url: `/api/postcodes/${encodeURIComponent(postcode)}` });
      expect(check.statusCode).toBe(404);
      expect(check.json().error.message).toContain(postcode);
    }
    for (const postcode of ['12345', 'SW1A 1A', 'hello']) {
      const check = await t.app.inject({ method: 'GET', url: `/api/postcodes/${encodeURIComponent(postcode)}` });
      expect(check.statusCode).toBe(400);
      expect(check.json().error.code).toBe('INVALID_POSTCODE');
    }
    const { rows } = await t.ctx.pool.query(`SELECT 1 FROM user_preferences WHERE user_id = $1`, [me.id]);
    expect(rows).toEqual([]);
  });

  it('imports the same rows again (.csv) and leaves the same table', async () => {
    const before = await snapshot();
    expect(before.n).toBe(sample.length);
    const res = await cli('postcodes:import', join(dir, 'sample.csv'));
    expect(res.code).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a file with a malformed row, naming its line, and changes nothing', async () => {
    const before = await snapshot();
    const bad: [string, RegExp][] = [
      ['SW1A 1AA,51.5,west', /line 1502: longitude "west" is not a number/],
      ['SW1A 1AA,95,-0.1', /line 1502: latitude 95 is not between -90 and 90/],
      ['NOT A POSTCODE,51.5,-0.1', /line 1502: postcode "NOT A POSTCODE" is not a UK postcode/],
      ['SW1A 1AA,51.5', /line 1502: the row does not have as many fields as the header/],
      [`${sample[0]!.postcode.replace(' ', '')},51.5,-0.1`, new RegExp(`line 1502: postcode ${sample[0]!.postcode} is given again \\(first on line 2\\)`)],
    ];
    for (const [row, message] of bad) {
      const lines = csv(sample).split('\n');
      lines.splice(1501, 0, row); // becomes line 1502 of the file
      writeFileSync(join(dir, 'bad.csv'), lines.join('\n'));
      const res = await cli('postcodes:import', join(dir, 'bad.csv'));
      expect(res.code, row).toBe(1);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).toMatch(/nothing was imported/);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await snapshot()).toEqual(before);
    }
  });

  it("reads ONS's NSPL layout by its header names, skipping postcodes with no coordinates", async () => {
    const rows = checked.slice(0, 200);
    const header = 'pcd,pcd2,pcds,dointr,doterm,usertype,oseast1m,osnrth1m,osgrdind,oa21,cty,ced,laua,ward,nhser,ctry,rgn,pcon,ttwa,itl,npark,lsoa21,msoa21,wz11,sicbl,bua24,ruc21,oac11,lat,long,lep1,lep2,pfa,imd,icb';
    const fields = header.split(',').length;
    const line = (r: Row, lat: string, lon: string) => {
      const compact = r.postcode.replace(' ', '');
      const pcd = compact.slice(0, -3).padEnd(4, ' ') + compact.slice(-3);
      const values = Array.from({ length: fields }, () => '""');
      values[0] = `"${pcd}"`;
      values[1] = `"${compact.slice(0, -3).padEnd(5, ' ')}${compact.slice(-3)}"`;
      values[2] = `"${r.postcode}"`;
      values[3] = '"198001"';
      values[28] = lat;
      values[29] = lon;
      return values.join(',');
    };
    const nogrid = { postcode: 'AB1 9ZZ', latitude: 0, longitude: 0 };
    const text = [header, ...rows.map((r) => line(r, r.latitude.toFixed(6), r.longitude.toFixed(6))), line(nogrid, '99.999999', '0.000000')].join('\r\n') + '\r\n';
    writeFileSync(join(dir, 'nspl.csv'), text);
    const res = await cli('postcodes:import', join(dir, 'nspl.csv'));
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/200 postcodes imported, 1 skipped \(no coordinates\)/);
    expect((await snapshot()).n).toBe(200);
    for (const r of rows) expect(metres((await locatePostcode(t.ctx.pool, r.postcode))!, r)).toBeLessThan(1);
    expect(await locatePostcode(t.ctx.pool, 'AB1 9ZZ')).toMatchObject({ precision: 'outcode' });
  });

  it('refuses a missing file, another extension and a header it does not know, with a clear line and exit code 2', async () => {
    writeFileSync(join(dir, 'other.csv'), 'code,lat_deg,lon_deg\nSW1A 1AA,51.5,-0.1\n');
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.csv'), /cannot read .*missing\.csv/],
      [join(dir, 'sample.txt'), /is not a \.csv or \.csv\.gz file/],
      [join(dir, 'other.csv'), /has neither the columns postcode,latitude,longitude nor ONS's pcds \(or pcd\), lat, long; its header is: code,lat_deg,lon_deg/],
    ];
    for (const [file, message] of cases) {
      const res = await cli('postcodes:import', file);
      expect(res.code, file).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
