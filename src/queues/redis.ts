import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { log } from '../log.js';
import { parseRedisUrl } from './redis-url.js';

/**
 * A connection to Redis: one node, or a Redis Cluster (ioredis's Cluster follows MOVED and
 * ASK redirections and failovers by itself). Both take the same commands; code that must
 * see every node (SCAN) goes through `masters`.
 */
export type RedisConnection = Redis | Cluster;

/** Whether `redis` is a cluster client. */
export function isCluster(redis: RedisConnection): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/**
 * A Redis connection for one role. Workers block on Redis and must wait out outages
 * (`maxRetriesPerRequest: null`, as BullMQ requires); producers on a request path fail
 * fast instead of queueing commands while Redis is away. rediss:// URLs get TLS from ioredis.
 * A redis-cluster:// (rediss-cluster://) URL gives a Cluster on its seed nodes, the same
 * role options (and credentials, TLS) applied to the connection of every node; reads go to
 * masters, as BullMQ needs to see its own writes.
 */
export function createRedis(url: string, role: 'worker' | 'producer', options: RedisOptions = {}): RedisConnection {
  const roleOptions: RedisOptions = role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false };
  const target = parseRedisUrl(url);
  let redis: RedisConnection;
  if (target.kind === 'single') {
    redis = new Redis(url, { ...roleOptions, ...options });
  } else {
    const { enableOfflineQueue, lazyConnect, ...nodeOptions } = { ...roleOptions, ...options };
    const clusterOptions: ClusterOptions = {
      scaleReads: 'master',
      // the cluster's own offline queue holds commands while it (re)discovers slots, as a worker
      // wants; a producer fails fast instead
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      ...(lazyConnect === undefined ? {} : { lazyConnect }),
      // a worker's command to a master that just died is retried (each retry re-reading the
      // slots) until a replica has taken over. ioredis's defaults (100 ms apart, 16 tries) give
      // up after about 1.6 s, well inside a failover (cluster-node-timeout, 15 s by default, plus
      // the election); BullMQ then backs off for its runRetryDelay (15 s) before trying again.
      // 120 tries 300 ms apart wait out about 36 s.
      ...(nodeOptions.maxRetriesPerRequest === null ? { maxRedirections: 120, retryDelayOnFailover: 300, retryDelayOnClusterDown: 300 } : {}),
      redisOptions: {
        ...nodeOptions,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.tls ? { tls: {} } : {}),
      },
    };
    redis = new Cluster(target.nodes, clusterOptions);
  }
  redis.on('error', (err) => log.warn({ err, role }, 'Redis connection error'));
  return redis;
}

/** Every master of a cluster (each holds its own part of the keyspace), or the one node. */
export function masters(redis: RedisConnection): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/**
 * Deletes every key matching a glob pattern, walking the keyspace with SCAN (not KEYS) so
 * that a large one is taken in pieces without blocking Redis; on a cluster, on every
 * master. Keys are deleted one by one (unlinked in a pipeline per batch): SCAN's batch
 * spans many slots, and a multi-key DEL on a cluster must stay within one. Returns how
 * many went.
 */
export async function deleteKeysMatching(redis: RedisConnection, pattern: string): Promise<number> {
  let deleted = 0;
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length) {
        const pipeline = node.pipeline();
        for (const k of keys) pipeline.unlink(k);
        for (const [err, n] of (await pipeline.exec()) ?? []) if (!err) deleted += Number(n);
      }
      cursor = next;
    } while (cursor !== '0');
  }
  return deleted;
}

/**
 * Deletes every key of one QUEUE_PREFIX: BullMQ's (`{prefix:queue}:...`), the heartbeats
 * and retry notes beside them, and the rate-limit counters (`prefix:rl:...`). For tools that
 * run under a throwaway prefix (the demo, the benchmarks) and must leave nothing behind.
 */
export async function deleteQueuePrefixKeys(redis: RedisConnection, queuePrefix: string): Promise<number> {
  return (await deleteKeysMatching(redis, `{${queuePrefix}:*`)) + (await deleteKeysMatching(redis, `${queuePrefix}:*`));
}
