/**
 * A PostgreSQL server of a test's own: a fresh cluster (initdb) in a temporary directory,
 * listening on a free loopback port with trust auth, that the test can stop and start
 * while the processes under test keep running, without touching the server every other
 * test file shares. The binaries are the machine's own (PostgreSQL 15 from Debian), so
 * PostGIS, installed for that server by `npm run services`, is available to it too.
 *
 * PostgreSQL refuses to run as root; when the tests run as root (CI does) the server runs
 * as the `postgres` OS user via runuser.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../dev/redis-server.js';

const run = promisify(execFile);

export interface OwnPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  adminUrl: string;
  /** Fast shutdown (every connection is cut, as in a restart by the platform). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops it, waits `downMs`, starts it again; resolves once it accepts connections. */
  restart(downMs?: number): Promise<void>;
  /** Stops it and removes its data directory. */
  close(): Promise<void>;
}

/** The directory of the machine's PostgreSQL binaries (pg_config names it). */
async function binDir(): Promise<string> {
  const { stdout } = await run('pg_config', ['--bindir']);
  return stdout.trim();
}

/** Runs a PostgreSQL tool (initdb, pg_ctl, pg_basebackup) as the user PostgreSQL accepts: this one, or `postgres` when this is root. */
export type PgTool = (tool: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;

/** A temporary directory for a server's data that `pgTool` may write, and the tool runner. */
export async function postgresWorkspace(prefix = 'sw-pg-'): Promise<{ dir: string; pgTool: PgTool }> {
  const bin = await binDir();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chmodSync(dir, 0o700);
  }
  const pgTool: PgTool = (tool, args) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args));
  return { dir, pgTool };
}

/** pg_ctl start and a fast stop of the cluster in `data`, listening on 127.0.0.1:`port` only. */
export function serverControl(pgTool: PgTool, data: string, port: number, logFile: string): { start(): Promise<void>; stop(): Promise<void> } {
  // the socket in the data directory: /var/run/postgresql belongs to the shared server
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${data} -c fsync=off -c max_connections=200`;
  return {
    async start() {
      await pgTool('pg_ctl', ['-D', data, '-o', options, '-l', logFile, '-w', '-t', '60', 'start']);
    },
    async stop() {
      await pgTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']).catch((err: { stderr?: string }) => {
        // already stopped is what a test that stopped it wanted
        if (!/Is server running\?/.test(err.stderr ?? '')) throw err;
      });
    },
  };
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const port = await freePort();
  const { dir, pgTool: pg } = await postgresWorkspace();
  const data = join(dir, 'data');

  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  const { start, stop } = serverControl(pg, data, port, join(dir, 'server.log'));
  await start();
  return {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async restart(downMs = 0) {
      await stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
