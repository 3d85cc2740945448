/** workers/web.ts as the Procfile runs it: refuses bad config in one line, serves (metrics on localhost only), stops cleanly on SIGTERM. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newSecretKey } from '../../src/config.js';
import { projectRoot } from '../../src/paths.js';
import { useTestContext } from '../helpers/context.js';

const ctx = useTestContext();

function startWeb(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'workers/web.ts')], {
    env: { ...process.env, DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', QUEUE_PREFIX: ctx.redisPrefix, SECRET_KEY: newSecretKey(), ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

describe('web process', () => {
  it('stops at start with one line naming a bad variable', async () => {
    const web = startWeb({ PORT: 'eighty' });
    expect(await web.exited).toBe(1);
    expect(web.err().trim()).toBe('slotwatch: bad configuration: PORT must be a whole number');
  });

  it('stops at start with one line when SECRET_KEY is missing or too short', async () => {
    const missing = startWeb({ SECRET_KEY: '' });
    expect(await missing.exited).toBe(1);
    expect(missing.err().trim()).toBe('slotwatch: bad configuration: SECRET_KEY is not set; generate one with `npm run cli -- secret:generate`');
    const short = startWeb({ SECRET_KEY: 'c2hvcnQ' });
    expect(await short.exited).toBe(1);
    expect(short.err().trim()).toBe('slotwatch: bad configuration: SECRET_KEY must be at least 32 random bytes as base64url, 43+ characters (npm run cli -- secret:generate)');
  });

  it('serves, then on SIGTERM finishes and exits 0 with its connections closed', async () => {
    const web = startWeb({});
    let address: string | undefined;
    while (!address) {
      if (web.child.exitCode !== null) throw new Error(`web exited: ${web.err()}`);
      await new Promise((r) => setTimeout(r, 100));
      address = /"address":"([^"]+)"/.exec(web.out())?.[1];
    }
    const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const slots = await fetch(`${url}/api/slots?lat=51.5&lon=-0.1`);
    expect(slots.status).toBe(200);
    // without METRICS_TOKEN: /metrics on the loopback address only, never on the public port
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    let metricsAt: string | undefined;
    while (!metricsAt) {
      await new Promise((r) => setTimeout(r, 100));
      metricsAt = /"address":"([^"]+\/metrics)"/.exec(web.out())?.[1];
    }
    expect(new URL(metricsAt!).hostname).toBe('127.0.0.1');
    const metrics = await fetch(metricsAt!);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('slotwatch_alerts_by_status{status="PENDING"}');
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
    expect(web.out()).toContain('web stopped');
  });
});
