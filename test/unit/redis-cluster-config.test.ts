/** REDIS_URL's cluster form and DELIVERY_SHARDS: what is accepted, what is refused and how, and how jobs are spread over shards. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { shardLimiter } from '../../src/alerts/senders.js';
import { sameShard, shardFor } from '../../src/alerts/deliveries.js';
import { bullPrefix, deliveryQueueNames, shardIndex } from '../../src/queues/names.js';
import { parseRedisUrl } from '../../src/queues/redis-url.js';
import type { Queue } from 'bullmq';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('the configuration was accepted');
}

describe('REDIS_URL naming a cluster', () => {
  it('takes the seed nodes, credentials (percent-decoded) and TLS from redis-cluster:// and rediss-cluster://', () => {
    expect(parseRedisUrl('redis-cluster://10.0.0.1:7000,10.0.0.2:7001')).toEqual({ kind: 'cluster', tls: false, nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }] });
    expect(parseRedisUrl('rediss-cluster://app:p%40ss%3Aword@cache-1.example:6380,[::1]:6381')).toEqual({
      kind: 'cluster',
      tls: true,
      username: 'app',
      password: 'p@ss:word',
      nodes: [{ host: 'cache-1.example', port: 6380 }, { host: '::1', port: 6381 }],
    });
    // a password alone, as managed Redis hands it out
    expect(parseRedisUrl('redis-cluster://:secret@h:1')).toMatchObject({ password: 'secret' });
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379/2' });
    expect(loadConfig({ REDIS_URL: 'redis-cluster://a:7000,b:7001' }).REDIS_URL).toBe('redis-cluster://a:7000,b:7001');
  });

  it.each([
    ['http://localhost:6379', /must be a URL starting with redis:\/\/, rediss:\/\/, redis-cluster:\/\/ or rediss-cluster:\/\//],
    ['redis-cluster://', /at least one host:port/],
    ['redis-cluster://a:7000,,b:7001', /at least one host:port/],
    ['redis-cluster://user:hunter2@a:7000,b', /cluster node "b" is not host:port/],
    ['redis-cluster://user:hunter2@a:99999', /cluster node "a:99999" is not host:port \(a port from 1 to 65535\)/],
    ['redis-cluster://user:hunter2@a:7000/1', /no \/database, path or \?options/],
    ['redis-cluster://u:%zz@a:7000', /not valid percent-encoding/],
  ])('refuses %j, naming REDIS_URL and what is wrong, without the password', (value, message) => {
    const err = configError({ REDIS_URL: value });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.variable).toBe('REDIS_URL');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('%zz');
  });
});

describe('DELIVERY_SHARDS', () => {
  it('defaults to one queue per channel under its old name, and names n queues when asked', () => {
    expect(loadConfig({}).DELIVERY_SHARDS).toBe(1);
    expect(deliveryQueueNames('email', 1)).toEqual(['deliveries-email']);
    expect(deliveryQueueNames('push', 3)).toEqual(['deliveries-push-0', 'deliveries-push-1', 'deliveries-push-2']);
    expect(bullPrefix('slotwatch', 'deliveries-push-1')).toBe('{slotwatch:deliveries-push-1}');
  });

  it.each(['0', '65', 'two', '1.5'])('refuses %j', (value) => {
    const err = configError({ DELIVERY_SHARDS: value });
    expect(err.variable).toBe('DELIVERY_SHARDS');
  });

  it('routes by a stable hash of the user: the same user to the same shard, users spread over all of them', () => {
    const users = Array.from({ length: 4000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const counts = [0, 0, 0, 0];
    for (const u of users) {
      const i = shardIndex(u, 4);
      expect(shardIndex(u, 4)).toBe(i);
      counts[i]!++;
    }
    // about a quarter each (a hash, not a round robin)
    for (const c of counts) expect(c).toBeGreaterThan(800);
    // a known value pins the hash: a change would send queued jobs' second hand-offs elsewhere
    expect(shardIndex('a', 1000)).toBe(0xe40c292c % 1000);
    expect(shardIndex('anything', 1)).toBe(0);

    const queues = (channel: string) => deliveryQueueNames(channel as 'email', 4).map((name) => ({ name }) as Queue);
    const email = queues('email');
    const push = queues('push');
    expect(shardFor(email, users[7]!).name).toBe(`deliveries-email-${shardIndex(users[7]!, 4)}`);
    // a job handing its alert to the other channel stays at its shard's place
    expect(sameShard(email, { queueName: 'deliveries-push-2' }, push).name).toBe('deliveries-email-2');
  });

  it('divides a channel rate over its shards so that the channel as a whole keeps it', () => {
    expect(shardLimiter(200, 1)).toEqual({ max: 200, duration: 1000 });
    expect(shardLimiter(200, 2)).toEqual({ max: 100, duration: 1000 });
    expect(shardLimiter(3, 2)).toEqual({ max: 2, duration: 1333 });
    expect(shardLimiter(1, 4)).toEqual({ max: 1, duration: 4000 });
    for (const [rate, shards] of [[200, 3], [7, 4], [1000, 16], [1, 1]] as const) {
      const { max, duration } = shardLimiter(rate, shards);
      // the total over all shards is within 0.1% of the rate asked for (the window is whole milliseconds)
      expect(Math.abs((shards * max * 1000) / duration - rate) / rate).toBeLessThan(0.001 + 1 / duration);
    }
  });
});
