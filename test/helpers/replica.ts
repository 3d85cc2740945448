/**
 * A streaming replica of a test's own PostgreSQL (startOwnPostgres, whose initdb defaults
 * already allow it: wal_level replica, wal senders, replication trusted on loopback), made
 * by `pg_basebackup -R` and started on another free loopback port as a hot standby. The
 * test can wait until it has replayed everything the primary wrote, or pause its replay,
 * so that what a read returns shows which server answered it.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { postgresWorkspace, serverControl, type OwnPostgres } from './postgres-server.js';
import { freePort } from '../../dev/redis-server.js';

/** Why a replica cannot be made here, or null when pg_basebackup is installed. */
export async function replicaUnavailable(): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('pg_config', ['--bindir']);
    return existsSync(join(stdout.trim(), 'pg_basebackup')) ? null : 'pg_basebackup is not installed (Debian: apt-get install postgresql-15)';
  } catch {
    return 'pg_config is not installed (Debian: apt-get install postgresql-15 libpq-dev)';
  }
}

export interface OwnReplica {
  port: number;
  /** `databaseUrl` (a database on the primary) as the replica serves it. */
  urlFor(databaseUrl: string): string;
  /** Resolves once the replica has replayed everything the primary had written when called. */
  caughtUp(): Promise<void>;
  /** Stops applying the primary's changes (it still receives them) until resumeReplay. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Fast shutdown, as when the replica's host goes away. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

async function on<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function startReplica(primary: OwnPostgres): Promise<OwnReplica> {
  const port = await freePort();
  const { dir, pgTool } = await postgresWorkspace('sw-replica-');
  const data = join(dir, 'data');
  // -R writes standby.signal and primary_conninfo; -X stream copies the WAL written meanwhile
  await pgTool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', data, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync']);
  const { start, stop } = serverControl(pgTool, data, port, join(dir, 'server.log'));
  await start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const replica: OwnReplica = {
    port,
    urlFor(databaseUrl) {
      const u = new URL(databaseUrl);
      u.port = String(port);
      return u.toString();
    },
    async caughtUp() {
      const { rows } = await on(primary.adminUrl, (c) => c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'));
      const target = rows[0]!.lsn;
      const deadline = Date.now() + 15_000;
      for (;;) {
        const { rows: r } = await on(adminUrl, (c) => c.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [target]));
        if (r[0]!.done) return;
        if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${target} in 15 s; see ${join(dir, 'server.log')}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    async pauseReplay() {
      await on(adminUrl, async (c) => {
        await c.query('SELECT pg_wal_replay_pause()');
        // a pause is requested, then takes effect at the next WAL record replayed: give it one
        await on(primary.adminUrl, (p) => p.query(`SELECT pg_logical_emit_message(false, 'slotwatch-test', 'pause')`));
        const deadline = Date.now() + 10_000;
        while ((await c.query<{ s: string }>('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0]!.s !== 'paused') {
          if (Date.now() > deadline) throw new Error('the replica did not pause its replay in 10 s');
          await new Promise((res) => setTimeout(res, 10));
        }
      });
    },
    async resumeReplay() {
      await on(adminUrl, (c) => c.query('SELECT pg_wal_replay_resume()'));
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await replica.caughtUp();
  return replica;
}
