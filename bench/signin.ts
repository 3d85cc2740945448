/**
 * `npm run bench -- signin [--burst 50] [--rounds 3]`: how long a sign-in takes while a
 * burst of sign-ups hashes new passwords (scrypt, 128 MiB each), with the sign-ups' hashes
 * bounded (PASSWORD_HASH_CONCURRENCY=1, the default) and, for comparison, unbounded (every
 * sign-up hashing at once, as before the bound: they then share libuv's four threadpool
 * threads with the sign-ins). The app is built in this process and driven over HTTP on a
 * local port; each round fires --burst sign-ups at once and signs in every 100 ms until the
 * burst is answered. Prints sign-in latency alone and during the burst (median, max) and
 * how the sign-ups were answered; writes bench/results/signin.json. It creates its own
 * database and drops it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashPassword } from '../src/accounts/passwords.js';
import { createUser } from '../src/accounts/users.js';
import { loadConfig, newSecretKey, type Config } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { withDatabase } from '../src/db/urls.js';
import { buildApp } from '../src/http/app.js';
import { projectRoot } from '../src/paths.js';
import { closeDeps, createDeps } from '../src/process/deps.js';
import { createRedis, deleteQueuePrefixKeys } from '../src/queues/redis.js';
import { admin } from './_admin.js';
import { arg } from './_args.js';

const PASSWORD = 'correct horse battery';


const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Round {
  aloneMs: number[];
  duringMs: number[];
  answers: Record<string, number>;
  burstMs: number;
}

async function round(config: Config, burst: number, tag: string): Promise<Round> {
  const deps = createDeps(config, 'web', pino({ level: 'silent' }));
  const app = await buildApp(deps);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const email = `signin-${tag}@bench.example`;
    await createUser(deps.pool, { email, passwordHash: await hashPassword(PASSWORD), role: 'CLIENT' });
    const post = (path: string, body: object) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const signIn = async () => {
      const start = performance.now();
      const res = await post('/api/auth/login', { email, password: PASSWORD });
      if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`);
      await res.arrayBuffer();
      return performance.now() - start;
    };
    const aloneMs = [await signIn(), await signIn(), await signIn()];
    const answers: Record<string, number> = {};
    const start = performance.now();
    let done = false;
    const sent = Promise.all(
      Array.from({ length: burst }, async (_, i) => {
        const res = await post('/api/auth/register', { email: `burst-${tag}-${i}@bench.example`, password: PASSWORD });
        answers[res.status] = (answers[res.status] ?? 0) + 1;
        await res.arrayBuffer();
      }),
    ).finally(() => (done = true));
    const duringMs: number[] = [];
    await new Promise((resolve) => setTimeout(resolve, 50));
    while (!done) {
      duringMs.push(await signIn());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await sent;
    const burstMs = performance.now() - start;
    await app.accountMail.idle();
    return { aloneMs, duringMs, answers, burstMs };
  } finally {
    await app.close();
    await closeDeps(deps);
  }
}

export default async function signinBench(args: string[]): Promise<void> {
  const burst = Number(arg(args, '--burst', '50'));
  const rounds = Number(arg(args, '--rounds', '3'));
  const env = loadConfig();
  const database = `sw_bench_signin_${randomBytes(3).toString('hex')}`;
  const adminUrl = withDatabase(env.DATABASE_URL, 'postgres');
  const url = withDatabase(env.DATABASE_URL, database);
  const queuePrefix = `bench-signin-${randomBytes(3).toString('hex')}`;
  console.log(`sign-in under a burst of ${burst} sign-ups, ${rounds} rounds per setting; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}; database ${database}`);
  await admin(adminUrl, `CREATE DATABASE ${database}`);
  try {
    await migrate({ databaseUrl: url, direction: 'up' });
    const settings = {
      bounded: { PASSWORD_HASH_CONCURRENCY: 1, PASSWORD_HASH_QUEUE: 20 },
      unbounded: { PASSWORD_HASH_CONCURRENCY: burst, PASSWORD_HASH_QUEUE: 0 },
    };
    const results: Record<string, unknown> = { burst, rounds, cpus: cpus().length };
    for (const [name, lane] of Object.entries(settings)) {
      const all: Round[] = [];
      for (let r = 0; r < rounds; r++) {
        const config: Config = {
          ...env,
          DATABASE_URL: url,
          QUEUE_PREFIX: queuePrefix,
          SECRET_KEY: env.SECRET_KEY ?? newSecretKey(),
          OUTBOX_DIR: join(projectRoot, 'test-results', 'bench-outbox'),
          REGISTER_LIMIT_PER_MINUTE_IP: 1_000_000,
          LOGIN_LIMIT_PER_MINUTE: 100_000,
          LOGIN_LIMIT_PER_MINUTE_IP: 1_000_000,
          ...lane,
        };
        all.push(await round(config, burst, `${name}-${r}`));
      }
      const alone = all.flatMap((x) => x.aloneMs);
      const during = all.flatMap((x) => x.duringMs);
      const summary = {
        lane,
        signInAloneMedianMs: Math.round(median(alone)),
        signInDuringBurstMedianMs: Math.round(median(during)),
        signInDuringBurstMaxMs: Math.round(Math.max(...during)),
        signInsDuringBurst: during.length,
        burstAnswers: all.map((x) => x.answers),
        burstSeconds: all.map((x) => +(x.burstMs / 1000).toFixed(1)),
      };
      results[name] = summary;
      console.log(
        `${name.padEnd(9)}: sign-in alone ${summary.signInAloneMedianMs} ms; during the burst median ${summary.signInDuringBurstMedianMs} ms, ` +
          `max ${summary.signInDuringBurstMaxMs} ms (${during.length} sign-ins); sign-ups answered ${JSON.stringify(summary.burstAnswers)} in ${summary.burstSeconds.join(', ')} s`,
      );
    }
    mkdirSync(join(projectRoot, 'bench', 'results'), { recursive: true });
    writeFileSync(join(projectRoot, 'bench', 'results', 'signin.json'), JSON.stringify(results, null, 2) + '\n');
    console.log('written to bench/results/signin.json');
  } finally {
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    const redis = createRedis(env.REDIS_URL, 'producer');
    await deleteQueuePrefixKeys(redis, queuePrefix).catch(() => undefined);
    redis.disconnect();
  }
}
