/**
 * `npm run bench -- booking [--connections 16] [--duration 10] [--rounds 3] [--pairs 100000] [--keep]`:
 * POST /api/slots/:id/hold over HTTP against workers/web.ts in its own process (auth, rate
 * limits in Redis, the locked REPEATABLE READ transaction) beside pgbench running the same
 * hold transaction (the same SQL, exported by src/booking/appointments.ts, prepared as the app
 * prepares it) at the same concurrency on the same database. Two shapes:
 *   - distinct: every request a different user holding a different free slot (all 201);
 *   - hot:      every request the same slot, already held (409, refused without waiting for the slot's lock).
 * HTTP is driven by autocannon and, where installed (apt-get install wrk; the bench
 * installs it when it runs as root on Debian), by wrk, a C load generator like pgbench.
 * The tools take turns for --rounds rounds (the machine may be shared) and the medians are
 * reported. Prints requests/s, p50/p99 latency, the CPU milliseconds each request cost in
 * the web process, PostgreSQL, Redis and the load generator (bench/_cpu.ts), and HTTP ÷
 * pgbench; writes bench/results/booking.json. It creates its own database and drops it.
 * BENCH_WEB_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the web process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type pg from 'pg';
import { HOLD_SQL } from '../src/booking/appointments.js';
import { loadConfig, newSecretKey } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { projectRoot } from '../src/paths.js';
import { createRedis, deleteQueuePrefixKeys } from '../src/queues/redis.js';
import { withDatabase } from '../src/db/urls.js';
import { admin } from './_admin.js';
import { arg } from './_args.js';
import { BackendCpu, processCpuSeconds, redisCpuSeconds, selfCpuSeconds } from './_cpu.js';




interface Pair {
  userId: string;
  slotId: string;
  token: string;
}

/**
 * `n` users, each with a live session, and `n` free future slots (hourly, one examiner per
 * 5,000 so none overlap), paired one to one. `tag` keeps the HTTP and pgbench sets apart.
 */
async function seedPairs(pool: pg.Pool, n: number, tag: string): Promise<Pair[]> {
  const { rows: [centre] } = await pool.query<{ id: string }>(
    `INSERT INTO test_centers (name, postcode, latitude, longitude) VALUES ($1, 'M1 1AA', 53.48, -2.24) RETURNING id`,
    [`Bench ${tag}`],
  );
  const pairs: Pair[] = [];
  const chunk = 5000;
  for (let from = 0; from < n; from += chunk) {
    const size = Math.min(chunk, n - from);
    const tokens = Array.from({ length: size }, () => 'sw_' + randomBytes(32).toString('base64url'));
    const { rows: users } = await pool.query<{ id: string }>(
      `INSERT INTO users (email, password_hash)
       SELECT 'bench-' || $1::text || '-' || g || '@bench.example', 'x' FROM generate_series($2::int, $3::int) g
       RETURNING id`,
      [tag, from, from + size - 1],
    );
    await pool.query(
      `INSERT INTO sessions (user_id, token_hash, expires_at) SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::timestamptz[])`,
      [users.map((u) => u.id), tokens.map((t) => createHash('sha256').update(t).digest()), users.map(() => new Date(Date.now() + 86_400_000))],
    );
    const { rows: [spec] } = await pool.query<{ id: string }>(
      `INSERT INTO specialists (full_name, service_type, center_id) VALUES ($1, 'driving examiner', $2) RETURNING id`,
      [`Examiner ${tag} ${from}`, centre!.id],
    );
    const { rows: slots } = await pool.query<{ id: string }>(
      `INSERT INTO time_slots (specialist_id, center_id, test_type, start_time, end_time)
       SELECT $1::uuid, $2::uuid, 'practical', t, t + interval '57 minutes'
         FROM (SELECT date_trunc('hour', now()) + interval '30 days' + g * interval '1 hour' AS t FROM generate_series(1, $3::int) g) x
       ORDER BY t RETURNING id`,
      [spec!.id, centre!.id, size],
    );
    for (let i = 0; i < size; i++) pairs.push({ userId: users[i]!.id, slotId: slots[i]!.id, token: tokens[i]! });
  }
  await pool.query('ANALYZE');
  return pairs;
}

interface Figures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  refused: number;
  errors: number;
  /** CPU ms per answered request, by process (see bench/_cpu.ts). */
  cpuMsPerRequest?: CpuPerRequest;
}

interface CpuPerRequest {
  /** The web process (HTTP runs only). */
  web?: number;
  /** The backends serving the bench database. */
  postgres: number;
  redis: number;
  /** autocannon (in this process), wrk or pgbench (child processes). */
  loadGenerator: number;
  total: number;
}

/** The Lua that has wrk send POST <path> with each line's bearer token, spread over its threads. */
const WRK_SCRIPT = `
local threads = {}
function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end
function init(args)
  local nthreads = tonumber(args[2])
  lines, sent, server_errors = {}, 0, 0
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == index then table.insert(lines, line) end
    n = n + 1
  end
end
function request()
  sent = sent + 1
  local line = lines[(sent - 1) % #lines + 1]
  local space = line:find(" ", 1, true)
  return wrk.format("POST", line:sub(1, space - 1), { ["Authorization"] = "Bearer " .. line:sub(space + 1), ["Content-Length"] = "0" })
end
function response(status)
  if status >= 500 then server_errors = server_errors + 1 end
end
function done(summary, latency)
  local most, errors = 0, 0
  for _, t in ipairs(threads) do
    most = math.max(most, t:get("sent"))
    errors = errors + t:get("server_errors")
  end
  io.write(string.format('WRK_RESULT {"requests":%d,"non2xx":%d,"serverErrors":%d,"socketErrors":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"linesUsed":%d}\\n',
    summary.requests, summary.errors.status, errors,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99), most * #threads))
end
`;

/** wrk on PATH, installed from Debian's archive when missing and allowed (root with apt-get); else undefined. */
function findWrk(): string | undefined {
  const has = () => spawnSync('wrk', ['--version']).error === undefined;
  if (has()) return 'wrk';
  if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).error === undefined) {
    console.log('wrk is not installed: apt-get install -y wrk ...');
    spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore' });
    if (has()) return 'wrk';
  }
  console.log('wrk is not available (apt-get install wrk): measuring with autocannon only');
  return undefined;
}

/**
 * wrk (C, like pgbench) sending each request to the next line of \`lines\` ("path token"),
 * one line per request; returns the figures and how many lines it used.
 */
async function wrk(address: string, connections: number, seconds: number, lines: string[]): Promise<Figures & { linesUsed: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-wrk-'));
  try {
    const threads = Math.min(connections, cpus().length);
    writeFileSync(join(dir, 'hold.lua'), WRK_SCRIPT);
    writeFileSync(join(dir, 'lines.txt'), lines.join('\n') + '\n');
    const argv = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '-s', join(dir, 'hold.lua'), address, '--', join(dir, 'lines.txt'), String(threads)];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', argv);
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}:\n${text}`))));
    });
    const json = /WRK_RESULT (\{.*\})/.exec(out)?.[1];
    if (!json) throw new Error(`wrk printed no result:\n${out}`);
    const r = JSON.parse(json) as { requests: number; non2xx: number; serverErrors: number; socketErrors: number; durationUs: number; p50Us: number; p99Us: number; linesUsed: number };
    const answered = r.requests - r.serverErrors;
    return {
      perSecond: answered / (r.durationUs / 1e6),
      p50Ms: r.p50Us / 1000,
      p99Ms: r.p99Us / 1000,
      ok: r.requests - r.non2xx,
      refused: r.non2xx - r.serverErrors,
      errors: r.serverErrors + r.socketErrors,
      linesUsed: r.linesUsed,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function http(address: string, connections: number, seconds: number, next: () => { path: string; token: string }): Promise<Figures> {
  const result = await autocannon({
    url: address,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const { path, token } = next();
          return { ...req, path, headers: { authorization: `Bearer ${token}` } };
        },
      },
    ],
  });
  const codes = result.statusCodeStats as Record<string, { count: number }>;
  const count = (re: RegExp) => Object.entries(codes).filter(([c]) => re.test(c)).reduce((n, [, v]) => n + v.count, 0);
  const ok = count(/^2/);
  const refused = count(/^4/);
  return {
    perSecond: (ok + refused) / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok,
    refused,
    errors: count(/^5/) + result.errors + result.timeouts,
  };
}

/** Runs pgbench with `script` and reads tps and per-transaction latencies from its log. */
async function pgbench(url: string, script: string, connections: number, seconds: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-pgbench-'));
  try {
    const file = join(dir, 'hold.sql');
    writeFileSync(file, script);
    const u = new URL(url);
    const argv = [
      '-n', '-M', 'prepared', '-c', String(connections), '-j', String(Math.min(connections, cpus().length)), '-T', String(seconds),
      '-f', file, '--log', '--log-prefix', join(dir, 'tx'),
      '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), u.pathname.slice(1),
    ];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('pgbench', argv, { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench exited ${code}:\n${text}`))));
    });
    const latencies: number[] = [];
    let failed = 0;
    for (const f of readdirSync(dir).filter((f) => f.startsWith('tx'))) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const cols = line.split(' ');
        if (cols.length < 3) continue;
        if (cols[2] === 'failed' || cols[2] === 'skipped') failed++;
        else latencies.push(Number(cols[2]) / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? NaN);
    return { perSecond: tps, p50Ms: pct(0.5), p99Ms: pct(0.99), ok: latencies.length, refused: 0, errors: failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The hold transaction as a pgbench script: each run takes the next unused pair. */
function pgbenchScript(shape: 'distinct' | 'hot'): string {
  // HOLD_SQL is ($1 user, $2 slot, $3 minutes, $4 actor, $5 ip)
  const hold = HOLD_SQL.replace(/\$1::uuid/g, ':u::uuid')
    .replace(/\$2::uuid/g, ':s::uuid')
    .replace(/\$3::float8/g, '5::float8')
    .replace(/\$4::text/g, `'user'::text`)
    .replace(/\$5::inet/g, 'NULL::inet');
  const pick =
    shape === 'distinct'
      ? `SELECT user_id AS u, slot_id AS s FROM bench_pairs WHERE n = (SELECT nextval('bench_seq')::int)`
      : `SELECT user_id AS u, (SELECT slot_id FROM bench_hot) AS s FROM bench_pairs WHERE n = 1 + (SELECT nextval('bench_hot_seq')::int) % 1000`;
  // the app commits a hold and rolls a refusal back (the hot slot is held: nothing is written)
  const end = shape === 'distinct' ? 'COMMIT;' : 'ROLLBACK;';
  return [`${pick} \\gset`, 'BEGIN ISOLATION LEVEL REPEATABLE READ;', hold.trim() + ';', end, ''].join('\n');
}

export default async function bookingBench(args: string[]): Promise<void> {
  const connections = Number(arg(args, '--connections', '16'));
  const seconds = Number(arg(args, '--duration', '10'));
  const pairsPerSide = Number(arg(args, '--pairs', '100000'));
  const rounds = Number(arg(args, '--rounds', '3'));
  const keep = args.includes('--keep');
  const base = loadConfig();
  const database = `sw_bench_booking_${randomBytes(3).toString('hex')}`;
  const adminUrl = withDatabase(base.DATABASE_URL, 'postgres');
  const url = withDatabase(base.DATABASE_URL, database);
  const queuePrefix = `bench-booking-${randomBytes(3).toString('hex')}`;
  console.log(`booking bench: ${connections} connections, ${seconds} s per run, database ${database}`);

  await admin(adminUrl, `CREATE DATABASE ${database}`);
  const pool = createPool(url, { max: connections + 4, applicationName: 'slotwatch-bench' });
  const redis = createRedis(base.REDIS_URL, 'worker');
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    console.log(`seeding ${pairsPerSide} users+sessions+slots per side ...`);
    const httpPairs = await seedPairs(pool, pairsPerSide, 'http');
    const pgPairs = await seedPairs(pool, pairsPerSide, 'pg');
    await pool.query(`CREATE TABLE bench_pairs (n int PRIMARY KEY, user_id uuid NOT NULL, slot_id uuid NOT NULL)`);
    await pool.query(`INSERT INTO bench_pairs SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[])`, [
      pgPairs.map((_, i) => i + 1),
      pgPairs.map((p) => p.userId),
      pgPairs.map((p) => p.slotId),
    ]);
    await pool.query(`CREATE SEQUENCE bench_seq`);
    await pool.query(`CREATE SEQUENCE bench_hot_seq`);

    // the server is the real web entry in its own process, as in production: autocannon
    // in this process would otherwise share the server's event loop and slow it down
    const port = 20000 + Math.floor(Math.random() * 20000);
    const web = spawn(process.execPath, [...(process.env.BENCH_WEB_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', join(projectRoot, 'workers', 'web.ts')], {
      cwd: projectRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        DATABASE_URL: url,
        DATABASE_POOL_MAX: String(connections),
        REDIS_URL: base.REDIS_URL,
        QUEUE_PREFIX: queuePrefix,
        SECRET_KEY: newSecretKey(),
        PORT: String(port),
        METRICS_PORT: '0',
        LOG_LEVEL: 'error',
        HOLD_LIMIT_PER_MINUTE: '100000',
        HOLD_LIMIT_PER_MINUTE_IP: '1000000',
      },
    });
    const address = `http://127.0.0.1:${port}`;
    const stopWeb = () => new Promise<void>((resolve) => (web.exitCode !== null ? resolve() : (web.once('exit', () => resolve()), web.kill('SIGTERM'))));
    for (let tries = 0; ; tries++) {
      const ready = await fetch(`${address}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (tries > 100 || web.exitCode !== null) throw new Error('the web process did not become ready');
      await new Promise((r) => setTimeout(r, 200));
    }

    try {
      // distinct: each request the next unused (user, slot) pair, whichever tool sends it
      let i = 0;
      const takeDistinct = (n: number) => Array.from({ length: n }, () => httpPairs[i++ % httpPairs.length]!);
      const line = (p: Pair, slotId = p.slotId) => `/api/slots/${slotId}/hold ${p.token}`;
      const nextDistinct = () => {
        const p = takeDistinct(1)[0]!;
        return { path: `/api/slots/${p.slotId}/hold`, token: p.token };
      };
      /** Runs one load run and adds where its CPU went, per answered request. */
      const measured = async (kind: 'autocannon' | 'child', run: () => Promise<Figures>): Promise<Figures> => {
        const backends = new BackendCpu(database);
        const before = { web: processCpuSeconds(web.pid), redis: await redisCpuSeconds(redis), self: selfCpuSeconds() };
        backends.start();
        const f = await run();
        const postgres = backends.stop();
        const self = selfCpuSeconds();
        const answered = Math.max(1, f.ok + f.refused);
        const per = (seconds: number) => Math.round((seconds * 1000 * 100) / answered) / 100;
        const cpu: CpuPerRequest = {
          postgres: per(postgres),
          redis: per((await redisCpuSeconds(redis)) - before.redis),
          loadGenerator: per(kind === 'autocannon' ? self.own - before.self.own : self.children - before.self.children),
          total: 0,
        };
        return { ...f, cpuMsPerRequest: cpu };
      };
      const withWeb = async (run: () => Promise<Figures>, kind: 'autocannon' | 'child'): Promise<Figures> => {
        const before = processCpuSeconds(web.pid);
        const f = await measured(kind, run);
        const cpu = f.cpuMsPerRequest!;
        cpu.web = Math.round(((processCpuSeconds(web.pid) - before) * 1000 * 100) / Math.max(1, f.ok + f.refused)) / 100;
        cpu.total = Math.round((cpu.web + cpu.postgres + cpu.redis + cpu.loadGenerator) * 100) / 100;
        return f;
      };
      const withoutWeb = async (run: () => Promise<Figures>): Promise<Figures> => {
        const f = await measured('child', run);
        const cpu = f.cpuMsPerRequest!;
        cpu.total = Math.round((cpu.postgres + cpu.redis + cpu.loadGenerator) * 100) / 100;
        return f;
      };
      // a short run first warms the server up (JIT, pool connections), as a long-running process would be
      await http(address, connections, 2, nextDistinct);
      // the seeding analysed a database with no appointments yet; statements prepared on
      // those statistics plan sequential scans of appointments, which grow slower with every
      // hold when autovacuum is off (as on our CI machines) and nothing analyses again. A live
      // database has appointments and current statistics: analyse now that it has some
      // (this also invalidates the plans the web process cached).
      await pool.query('ANALYZE appointments, appointment_events, audit_logs');

      // hot: one slot, already held; every request is refused (on the snapshot, without
      // the slot's lock). Users from the far end of the list: none holds a slot (one hold per user).
      const hotSlot = httpPairs[httpPairs.length - 1]!.slotId;
      const hotUsers = httpPairs.slice(-1000);
      let j = 0;
      const nextHot = () => ({ path: `/api/slots/${hotSlot}/hold`, token: hotUsers[j++ % hotUsers.length]!.token });
      await pool.query(`CREATE TABLE bench_hot AS SELECT $1::uuid AS slot_id`, [hotSlot]);
      // held once through the endpoint (by a user outside both ranges), so both sides meet a held slot
      const holder = httpPairs[httpPairs.length - 2000]!;
      const first = await fetch(`${address}/api/slots/${hotSlot}/hold`, { method: 'POST', headers: { authorization: `Bearer ${holder.token}` } });
      if (first.status !== 201) throw new Error(`could not hold the hot slot: ${first.status} ${await first.text()}`);

      // HTTP is driven twice: by autocannon (Node, as the issue suggests) and, where it is
      // installed, by wrk (C, like pgbench). On 2 cores the load generator takes CPU from
      // the server it measures; cpuMsPerRequest.loadGenerator shows how much (about twice
      // as much for autocannon as for wrk here, though both are small beside the server).
      const wrkBin = findWrk();
      const wrkDistinct = async () => {
        const start = i;
        // the last 2,000 pairs are kept for the hot runs
        const f = await wrk(address, connections, seconds, takeDistinct(Math.max(1000, Math.min(httpPairs.length - 2000 - i, seconds * 5000))).map((p) => line(p)));
        i = start + f.linesUsed + 64; // the lines it did not reach stay unused
        return f;
      };
      const hotLines = hotUsers.map((p) => line(p, hotSlot));

      // the machine may be shared: the tools take turns, round by round, so all meet the
      // same background load, and each figure is the median of its rounds
      type Run = 'autocannonDistinct' | 'wrkDistinct' | 'pgbenchDistinct' | 'autocannonHot' | 'wrkHot' | 'pgbenchHot';
      const runs: Partial<Record<Run, Figures[]>> = {};
      const record = async (name: Run, run: () => Promise<Figures>) => (runs[name] ??= []).push(await run());
      for (let round = 1; round <= rounds; round++) {
        await record('autocannonDistinct', () => withWeb(() => http(address, connections, seconds, nextDistinct), 'autocannon'));
        if (wrkBin) await record('wrkDistinct', () => withWeb(wrkDistinct, 'child'));
        await record('pgbenchDistinct', () => withoutWeb(() => pgbench(url, pgbenchScript('distinct'), connections, seconds)));
        await record('autocannonHot', () => withWeb(() => http(address, connections, seconds, nextHot), 'autocannon'));
        if (wrkBin) await record('wrkHot', () => withWeb(() => wrk(address, connections, seconds, hotLines), 'child'));
        await record('pgbenchHot', () => withoutWeb(() => pgbench(url, pgbenchScript('hot'), connections, seconds)));
        const last = (name: Run) => runs[name]?.at(-1)?.perSecond.toFixed(0) ?? '-';
        console.log(
          `round ${round}/${rounds}: distinct autocannon ${last('autocannonDistinct')}/s wrk ${last('wrkDistinct')}/s pgbench ${last('pgbenchDistinct')}/s; ` +
            `hot autocannon ${last('autocannonHot')}/s wrk ${last('wrkHot')}/s pgbench ${last('pgbenchHot')}/s`,
        );
      }
      const { rows: [used] } = await pool.query<{ n: string }>(`SELECT last_value AS n FROM bench_seq`);
      if (i > httpPairs.length - 2000 || Number(used!.n) > pgPairs.length) console.log(`warning: pairs ran out (HTTP ${i}, pgbench ${used!.n} of ${pgPairs.length}); raise --pairs`);
      const median = (xs: Figures[]) => [...xs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(xs.length / 2)]!;
      const medians = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Partial<Record<Run, Figures>>;
      const ratio = (a: Figures | undefined, b: Figures | undefined) => (a && b ? Math.round((a.perSecond / b.perSecond) * 100) / 100 : null);
      const roundRatios = (a: Figures[] | undefined, b: Figures[] | undefined) => (a && b ? a.map((x, k) => Math.round((x.perSecond / b[k]!.perSecond) * 100) / 100) : null);
      const shape = (kind: 'Distinct' | 'Hot') => ({
        autocannon: medians[`autocannon${kind}`],
        wrk: medians[`wrk${kind}`] ?? null,
        pgbench: medians[`pgbench${kind}`],
        ratioAutocannon: ratio(medians[`autocannon${kind}`], medians[`pgbench${kind}`]),
        ratioWrk: ratio(medians[`wrk${kind}`], medians[`pgbench${kind}`]),
        ratioPerRoundAutocannon: roundRatios(runs[`autocannon${kind}`], runs[`pgbench${kind}`]),
        ratioPerRoundWrk: roundRatios(runs[`wrk${kind}`], runs[`pgbench${kind}`]),
      });

      const { rows: [check] } = await pool.query<{ bad: string }>(
        `SELECT count(*) AS bad FROM (SELECT slot_id FROM appointments WHERE status IN ('HOLD','CONFIRMED') GROUP BY slot_id HAVING count(*) > 1) x`,
      );
      const results = {
        when: new Date().toISOString(),
        connections,
        secondsPerRun: seconds,
        cpus: cpus().length,
        loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
        rounds,
        distinct: shape('Distinct'),
        hot: shape('Hot'),
        runs,
        slotsWithTwoActiveAppointments: Number(check!.bad),
        command: `npm run bench -- booking ${args.join(' ')}`.trim(),
      };
      const row = (name: string, f: Figures | null | undefined) => {
        if (!f) return `  ${name.padEnd(11)} (not run)`;
        const c = f.cpuMsPerRequest;
        const cpu = c ? `   CPU ms/req: ${c.web !== undefined ? `web ${c.web} + ` : ''}pg ${c.postgres} + redis ${c.redis} + load ${c.loadGenerator} = ${c.total}` : '';
        return `  ${name.padEnd(11)} ${f.perSecond.toFixed(0).padStart(6)}/s  p50 ${f.p50Ms.toFixed(1).padStart(5)} ms  p99 ${f.p99Ms.toFixed(1).padStart(5)} ms  2xx ${String(f.ok).padStart(6)}  4xx ${String(f.refused).padStart(6)}  errors ${f.errors}${cpu}`;
      };
      const report = (title: string, r: ReturnType<typeof shape>, aim: string) => {
        console.log(title);
        console.log(row('autocannon', r.autocannon));
        console.log(row('wrk', r.wrk));
        console.log(row('pgbench', r.pgbench));
        console.log(`  HTTP / pgbench: wrk ${r.ratioWrk ?? '-'} (per round ${r.ratioPerRoundWrk?.join(', ') ?? '-'}), autocannon ${r.ratioAutocannon} (per round ${r.ratioPerRoundAutocannon?.join(', ')})${aim}`);
      };
      console.log(`\nmedians of ${rounds} rounds; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
      report('distinct slots (holds/s)', results.distinct, '; aim >= 0.5');
      console.log();
      report('one hot slot, already held (answers/s, all 409)', results.hot, '');
      console.log(`\nslots with two active appointments: ${results.slotsWithTwoActiveAppointments}`);
      mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true });
      writeFileSync(join(projectRoot, 'bench', 'results', 'booking.json'), JSON.stringify(results, null, 2) + '\n');
      console.log('written to bench/results/booking.json');
    } finally {
      await stopWeb();
    }
  } finally {
    // the rate-limit counters and the queues' keys the web process left under the run's prefix
    await deleteQueuePrefixKeys(redis, queuePrefix);
    redis.disconnect();
    await pool.end();
    if (!keep) await admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    else console.log(`kept database ${database}`);
  }
}
