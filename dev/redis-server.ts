/**
 * A redis-server of its own (for a test or a benchmark) on a free loopback port, with no persistence (as this
 * machine's Redis runs) unless asked for AOF, that the test can kill and start again: an
 * outage, or a restart that loses every key, without touching the Redis every other test
 * file shares.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface OwnRedis {
  port: number;
  url: string;
  /** SIGKILL: every connection drops and nothing is saved. */
  stop(): Promise<void>;
  /** SIGTERM, as an operator's restart sends: Redis writes its AOF out (when it has one) and exits. */
  shutdown(): Promise<void>;
  /** Starts it again on the same port: empty, or with an AOF what the AOF kept. */
  start(): Promise<void>;
  /** Stops it and deletes its data directory, if it had one. */
  dispose(): Promise<void>;
}

export interface OwnRedisOptions {
  /** Persistence as production should run it: AOF, fsynced every second, in a data directory of its own. */
  appendonly?: boolean;
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dataDir = options.appendonly ? mkdtempSync(join(tmpdir(), 'slotwatch-redis-')) : undefined;
  const persistence = dataDir ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dataDir] : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;
  async function start(): Promise<void> {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      c.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve();
      });
      c.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
    child = c;
  }
  async function end(signal: NodeJS.Signals): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    c.kill(signal);
    await once(c, 'exit');
  }
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => end('SIGKILL'),
    shutdown: () => end('SIGTERM'),
    start,
    async dispose() {
      await end('SIGKILL');
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
