/**
 * Finds PostgreSQL (with PostGIS) and Redis for the test run the way `npm run services`
 * does: DATABASE_URL/REDIS_URL when they answer, else the local default ports, else
 * containers via testcontainers where a Docker engine answers. It never installs
 * anything; when nothing answers it says to run `npm run services`.
 */
import net from 'node:net';
import pg from 'pg';
import { withDatabase } from '../../src/db/urls.js';

export interface FoundServices {
  /** A URL on the server whose database may be used to CREATE/DROP databases. */
  adminUrl: string;
  redisUrl: string;
  stop: () => Promise<void>;
}

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';


async function pgAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function tcpAnswers(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function fromContainers(): Promise<FoundServices> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    throw new Error(
      'tests need PostgreSQL with PostGIS and Redis: none answered on DATABASE_URL/REDIS_URL or the local ports, ' +
        'and no Docker engine answers for testcontainers. Run `npm run services` first.',
    );
  }
  const postgres = await new GenericContainer('postgis/postgis:16-3.4')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
  return {
    adminUrl: `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    stop: async () => {
      await Promise.all([postgres.stop(), redis.stop()]);
    },
  };
}

export async function findServices(env: NodeJS.ProcessEnv = process.env): Promise<FoundServices> {
  let adminUrl: string | undefined;
  if (env.DATABASE_URL) {
    const candidate = withDatabase(env.DATABASE_URL, 'postgres');
    if (await pgAnswers(candidate)) adminUrl = candidate;
  }
  if (!adminUrl && (await pgAnswers(LOCAL_PG))) adminUrl = LOCAL_PG;

  let redisUrl: string | undefined;
  if (env.REDIS_URL && (await tcpAnswers(env.REDIS_URL))) redisUrl = env.REDIS_URL;
  if (!redisUrl && (await tcpAnswers(LOCAL_REDIS))) redisUrl = LOCAL_REDIS;

  if (adminUrl && redisUrl) return { adminUrl, redisUrl, stop: async () => {} };
  return fromContainers();
}

export { withDatabase };
