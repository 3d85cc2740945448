/**
 * A PgBouncer of a test's own (Debian's `pgbouncer`; `npm run services` installs it) on a
 * free loopback port, in transaction pooling mode, in front of a PostgreSQL server (the
 * shared one unless said): every database name is passed through, so a test file's own
 * database is reachable as postgres://postgres@127.0.0.1:<port>/<its name>. The pool per
 * database is small, so client connections really do share server connections, as they do
 * behind a PaaS pooler under load.
 *
 * PgBouncer refuses to run as root; when the tests run as root (CI does) it runs as the
 * `postgres` OS user via runuser, as test/helpers/postgres-server.ts runs PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../dev/redis-server.js';

const run = promisify(execFile);

/** The pgbouncer binary, or null when it is not installed (the tests that need it skip). */
export function pgbouncerBinary(): string | null {
  return ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'].find((path) => existsSync(path)) ?? null;
}

export interface OwnPgBouncer {
  port: number;
  /** `databaseUrl` with its host and port replaced by PgBouncer's: the same database through the pooler. */
  urlFor(databaseUrl: string): string;
  /** Runs a command on PgBouncer's admin console (SHOW CLIENTS, SHOW POOLS, ...). */
  admin<R extends pg.QueryResultRow = pg.QueryResultRow>(command: string): Promise<R[]>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The server behind it; the shared 127.0.0.1:5432 unless said. */
  serverHost?: string;
  serverPort?: number;
  /** Server connections per database and user (default 2). */
  poolSize?: number;
}

/** Sends `signal` to `pid`; whether the process has gone within two seconds. */
async function stopped(pid: number, signal: NodeJS.Signals): Promise<boolean> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return true;
  process.kill(pid, signal);
  const until = Date.now() + 2_000;
  while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return !alive();
}

export async function startPgBouncer(o: PgBouncerOptions = {}): Promise<OwnPgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed (Debian: apt-get install pgbouncer; npm run services does it)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sw-pgbouncer-'));
  const asRoot = process.getuid?.() === 0;
  // trust: the test servers trust loopback connections, and PgBouncer still wants the user listed
  writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${o.serverHost ?? '127.0.0.1'} port=${o.serverPort ?? 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'admin_users = postgres',
      'pool_mode = transaction',
      `default_pool_size = ${o.poolSize ?? 2}`,
      'max_client_conn = 200',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  if (asRoot) {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, f), Number(uid.trim()), Number(gid.trim()));
    chmodSync(dir, 0o700);
  }
  const args = ['-d', '-q', join(dir, 'pgbouncer.ini')];
  await (asRoot ? run('runuser', ['-u', 'postgres', '--', binary, ...args]) : run(binary, args));

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/pgbouncer`;
  const admin = async <R extends pg.QueryResultRow>(command: string): Promise<R[]> => {
    // the admin console speaks only the simple protocol, which pg uses for a query without values
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return (await c.query<R>(command)).rows;
    } finally {
      await c.end();
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await admin('SHOW VERSION');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`pgbouncer did not answer on port ${port}: ${(err as Error).message}; see ${join(dir, 'pgbouncer.log')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return {
    port,
    urlFor(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    admin,
    async close() {
      let pid: number | undefined;
      try {
        pid = Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8').trim());
      } catch {
        // never wrote its pid: nothing to stop
      }
      // SIGTERM is an immediate shutdown up to PgBouncer 1.22 (Debian 12 ships 1.18); from
      // 1.23 it waits for clients to leave, and SIGQUIT is the immediate one
      if (pid && !(await stopped(pid, 'SIGTERM'))) await stopped(pid, 'SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
