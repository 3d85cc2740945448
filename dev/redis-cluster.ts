/**
 * A Redis Cluster of its own (for a test or a benchmark): `redis-server --cluster-enabled yes` on free loopback
 * ports, joined with `redis-cli --cluster create`, each master with its replicas, that a test
 * can take a master out of (SIGKILL) and watch its replica be promoted. No persistence: a
 * node that dies loses what only it had, which is what a failover test wants to see.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';

export interface OwnRedisCluster {
  /** `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...`: every node, as seeds. */
  url: string;
  /** Each node as `redis-cli --cluster create` set it up (roles change on failover; see killMaster). */
  nodes: { port: number; role: 'master' | 'replica' }[];
  /**
   * SIGKILLs the index-th master still alive (in the order of `nodes`, default 0) and resolves once a
   * replica of it is master and every surviving node says `cluster_state:ok`.
   */
  killMaster(index?: number): Promise<{ port: number; promotedPort: number }>;
  /** Stops every node and removes their directories. */
  close(): Promise<void>;
}

export interface OwnRedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a silent master takes to be judged failed (default 1000 ms). */
  nodeTimeoutMs?: number;
}

/**
 * Why a cluster cannot be started here, or undefined when it can: redis-server and
 * redis-cli (Debian `redis-server`, `redis-tools`) of version 5 or later, for
 * `redis-cli --cluster create`.
 */
export function redisClusterUnavailable(): string | undefined {
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (server.error || server.status !== 0) return 'redis-server is not installed (Debian package redis-server)';
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (cli.error || cli.status !== 0) return 'redis-cli is not installed (Debian package redis-tools)';
  const major = Number(/v=(\d+)/.exec(server.stdout)?.[1] ?? 0);
  if (major < 5) return `redis-server ${major} has no redis-cli --cluster create (need Redis 5 or later)`;
  return undefined;
}

interface Node {
  port: number;
  role: 'master' | 'replica';
  child?: ChildProcess;
  dir: string;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One command on one node over a short-lived plain connection (not a Cluster client: we ask a node about itself). */
async function ask(port: number, ...args: string[]): Promise<string> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => {});
  try {
    await r.connect();
    return String(await r.call(args[0]!, ...args.slice(1)));
  } finally {
    r.disconnect();
  }
}

function clusterOk(port: number): Promise<boolean> {
  return ask(port, 'CLUSTER', 'INFO').then((info) => info.includes('cluster_state:ok'));
}

export async function startRedisCluster(o: OwnRedisClusterOptions = {}): Promise<OwnRedisCluster> {
  const masters = o.masters ?? 3;
  const replicasPerMaster = o.replicasPerMaster ?? 1;
  const nodeTimeoutMs = o.nodeTimeoutMs ?? 1000;
  if (masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters');
  const root = mkdtempSync(join(tmpdir(), 'slotwatch-cluster-'));
  const nodes: Node[] = [];
  const count = masters * (1 + replicasPerMaster);
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const dir = join(root, String(port));
    mkdirSync(dir);
    nodes.push({ port, role: 'master', dir });
  }

  const close = async () => {
    await Promise.all(
      nodes.map(async (n) => {
        const c = n.child;
        n.child = undefined;
        if (c && c.exitCode === null && c.signalCode === null) {
          c.kill('SIGKILL');
          await once(c, 'exit');
        }
      }),
    );
    rmSync(root, { recursive: true, force: true });
  };

  try {
    for (const n of nodes) {
      // logs to a file in the node's directory: the test's output stays readable
      n.child = spawn(
        'redis-server',
        [
          '--port', String(n.port), '--bind', '127.0.0.1', '--dir', n.dir, '--logfile', join(n.dir, 'redis.log'),
          '--save', '', '--appendonly', 'no',
          '--cluster-enabled', 'yes', '--cluster-config-file', join(n.dir, 'nodes.conf'),
          '--cluster-node-timeout', String(nodeTimeoutMs),
          // a replica's first full sync at once, not after the default 5 s wait for more replicas
          '--repl-diskless-sync-delay', '0',
          '--maxmemory-policy', 'noeviction',
        ],
        { stdio: 'ignore' },
      );
    }
    await Promise.all(nodes.map((n) => waitFor(`node ${n.port} to answer`, 10_000, async () => ((await ask(n.port, 'PING')) === 'PONG' ? true : undefined))));

    const create = spawn(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    create.stdout!.on('data', (d) => (out += d));
    create.stderr!.on('data', (d) => (out += d));
    const [code] = (await once(create, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}: ${out}`);

    await Promise.all(nodes.map((n) => waitFor(`cluster_state:ok on ${n.port}`, 20_000, async () => ((await clusterOk(n.port)) ? true : undefined))));
    // roles as the cluster itself reports them (redis-cli chooses which node replicates which)
    const view = await ask(nodes[0]!.port, 'CLUSTER', 'NODES');
    for (const n of nodes) {
      const line = view.split('\n').find((l) => l.includes(`127.0.0.1:${n.port}@`));
      n.role = line && /\bslave\b/.test(line) ? 'replica' : 'master';
    }
    // and every replica through its first sync: until then it holds nothing, and a failover
    // to it would lose its master's every key
    await Promise.all(
      nodes
        .filter((n) => n.role === 'replica')
        .map((n) => waitFor(`replica ${n.port} in sync with its master`, 20_000, async () => {
          const info = await ask(n.port, 'INFO', 'replication');
          return /master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info) ? true : undefined;
        })),
    );
  } catch (err) {
    await close();
    throw err;
  }

  const publicNodes = nodes.map((n) => ({ port: n.port, role: n.role }));
  return {
    url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes: publicNodes,
    async killMaster(index = 0) {
      const alive = nodes.filter((n) => n.child && n.role === 'master');
      const victim = alive[index];
      if (!victim) throw new Error(`Redis Cluster: no live master at index ${index} (${alive.length} alive)`);
      const survivor = nodes.find((n) => n.child && n !== victim)!;
      // the victim's node id, to find its replicas in CLUSTER NODES
      const before = await ask(survivor.port, 'CLUSTER', 'NODES');
      const victimId = before.split('\n').find((l) => l.includes(`127.0.0.1:${victim.port}@`))?.split(' ')[0];
      if (!victimId) throw new Error(`Redis Cluster: node ${victim.port} is not in CLUSTER NODES`);
      const replicaPorts = before
        .split('\n')
        .filter((l) => l.split(' ')[3] === victimId)
        .map((l) => Number(/127\.0\.0\.1:(\d+)@/.exec(l)?.[1]));
      if (!replicaPorts.length) throw new Error(`Redis Cluster: master ${victim.port} has no replica to take over`);

      const c = victim.child!;
      victim.child = undefined;
      c.kill('SIGKILL');
      await once(c, 'exit');
      victim.role = 'replica'; // were it started again it would rejoin as a replica of the promoted node

      const promotedPort = await waitFor(`a replica of ${victim.port} to be promoted`, 30_000, async () => {
        for (const p of replicaPorts) {
          const info = await ask(p, 'ROLE').catch(() => '');
          if (info.startsWith('master')) return p;
        }
        return undefined;
      });
      const promoted = nodes.find((n) => n.port === promotedPort)!;
      promoted.role = 'master';
      const live = nodes.filter((n) => n.child);
      await Promise.all(live.map((n) => waitFor(`cluster_state:ok on ${n.port} after failover`, 30_000, async () => ((await clusterOk(n.port)) ? true : undefined))));
      for (const pn of publicNodes) pn.role = nodes.find((n) => n.port === pn.port)!.role;
      return { port: victim.port, promotedPort };
    },
    close,
  };
}
