/**
 * What REDIS_URL names: one Redis (`redis://`, `rediss://`, as ioredis reads them) or the
 * seed nodes of a Redis Cluster (`redis-cluster://[user:pass@]host:port,host:port,...`,
 * `rediss-cluster://` for TLS). A cluster URL is no WHATWG URL (it has several hosts), so
 * it is taken apart here; errors name what is wrong and never repeat the password.
 */

export interface ClusterTarget {
  kind: 'cluster';
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget = { kind: 'single'; url: string } | ClusterTarget;

const CLUSTER = /^(rediss?)-cluster:\/\/(.*)$/i;

/** Parses REDIS_URL; throws an Error whose message names what is wrong (`name` is the variable). */
export function parseRedisUrl(value: string, name = 'REDIS_URL'): RedisTarget {
  const v = value.trim();
  const cluster = CLUSTER.exec(v);
  if (!cluster) {
    let protocol: string;
    try {
      protocol = new URL(v).protocol;
    } catch {
      throw new Error(`${name} must be a URL starting with redis://, rediss://, redis-cluster:// or rediss-cluster://`);
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') throw new Error(`${name} must be a URL starting with redis://, rediss://, redis-cluster:// or rediss-cluster://`);
    return { kind: 'single', url: v };
  }
  const tls = cluster[1]!.toLowerCase() === 'rediss';
  let rest = cluster[2]!;
  // a path or query would be silently ignored by a cluster (it has only database 0): refuse it
  if (/[/?#]/.test(rest)) throw new Error(`${name}: a cluster URL names only [user:password@]host:port,host:port,... (no /database, path or ?options: a cluster has database 0 only)`);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    try {
      username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth) || undefined;
      password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) || undefined : undefined;
    } catch {
      throw new Error(`${name}: the user or password of the cluster URL is not valid percent-encoding`);
    }
  }
  const parts = rest.split(',').map((p) => p.trim());
  if (!parts.length || parts.some((p) => p === '')) throw new Error(`${name}: a cluster URL needs at least one host:port, separated by commas, with none empty`);
  const nodes = parts.map((p) => {
    // [v6]:port or host:port; the port is required: cluster nodes seldom all sit on 6379
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(p);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`${name}: cluster node "${p}" is not host:port (a port from 1 to 65535)`);
    return { host: (m[1] ?? m[2])!, port };
  });
  return { kind: 'cluster', nodes, tls, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}
