/**
 * The web and worker processes as the Procfile starts them, from the built code (dist/),
 * for the benchmarks that run the whole loop (bench/e2e.ts, bench/scale.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';
import { newSecretKey } from '../src/config.js';
import { projectRoot } from '../src/paths.js';
import { builtIsStale } from '../dev/build.js';

/** Builds dist/ when it is missing or older than any source file the build reads. */
export function ensureBuilt(bench: string): void {
  if (!builtIsStale(join('dist', 'workers', 'worker.js'))) return;
  console.log(`${bench}: building dist/ (npx tsc -p tsconfig.build.json)`);
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: projectRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${bench}: the build failed`);
}

/** `node dist/<entry>`, its output to `logStream`; `onLine` sees each line it prints. */
export function startBuilt(entry: string, env: NodeJS.ProcessEnv, logStream: WriteStream, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, [join(projectRoot, 'dist', entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(logStream, { end: false });
  child.stderr!.pipe(logStream, { end: false });
  if (onLine) child.stdout!.on('data', (b: Buffer) => b.toString().split('\n').forEach(onLine));
  return child;
}

/** The environment of the web and workers on a bench's own database, queue prefix and receivers. */
export function loopEnv(o: { databaseUrl: string; redisUrl: string; queuePrefix: string; port: number; smtpUrl: string; vapid: { publicKey: string; privateKey: string } }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.queuePrefix,
    PORT: String(o.port),
    METRICS_PORT: 'off',
    PUBLIC_BASE_URL: `http://127.0.0.1:${o.port}`,
    SMTP_URL: o.smtpUrl,
    SECRET_KEY: newSecretKey(),
    VAPID_PUBLIC_KEY: o.vapid.publicKey,
    VAPID_PRIVATE_KEY: o.vapid.privateKey,
    PUSH_ALLOW_LOCAL_ENDPOINTS: 'true',
    // the machine's capacity is measured, not the providers' rate limits
    DELIVERY_EMAIL_PER_SECOND: '100000',
    DELIVERY_PUSH_PER_SECOND: '100000',
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
  };
}
