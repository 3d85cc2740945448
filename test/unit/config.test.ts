/** Configuration: defaults for local use, and one clear line naming a bad variable. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { projectRoot } from '../../src/paths.js';

describe('loadConfig', () => {
  it('gives working local defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/slotwatch');
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.PORT).toBe(3000);
    expect(c.PUBLIC_BASE_URL).toBe('http://localhost:3000');
    expect(c.HOLD_MINUTES).toBe(5);
    expect(c.SMTP_URL).toBeUndefined();
    expect(c.METRICS_PORT).toBe(9464);
  });

  it('reads METRICS_PORT as a port, 0 or off', () => {
    expect(loadConfig({ METRICS_PORT: '9100' }).METRICS_PORT).toBe(9100);
    expect(loadConfig({ METRICS_PORT: '0' }).METRICS_PORT).toBe(0);
    expect(loadConfig({ METRICS_PORT: 'off' }).METRICS_PORT).toBe('off');
  });

  it('reads and coerces what is set', () => {
    const c = loadConfig({ PORT: '8080', REDIS_URL: 'rediss://user:pw@cache.example:6380', PUBLIC_BASE_URL: 'https://slotwatch.example/', SMTP_URL: '' });
    expect(c).toMatchObject({ PORT: 8080, REDIS_URL: 'rediss://user:pw@cache.example:6380', PUBLIC_BASE_URL: 'https://slotwatch.example' });
    expect(c.SMTP_URL).toBeUndefined();
  });

  it.each([
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['DATABASE_DIRECT_URL', 'db.example:5432'],
    ['DATABASE_READ_URL', 'http://replica.example/slotwatch'],
    ['DATABASE_NAMED_STATEMENTS', 'yes'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['PORT', '70000'],
    ['PORT', 'eighty'],
    ['METRICS_PORT', 'on'],
    ['METRICS_PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['HOLD_MINUTES', '0'],
    ['QUEUE_PREFIX', 'has spaces'],
    ['SMTP_URL', 'mail.example.com'],
    ['VAPID_SUBJECT', 'someone'],
    ['VAPID_PRIVATE_KEY', undefined],
  ])('names %s when it is %j', (variable, value) => {
    const env: NodeJS.ProcessEnv = { [variable]: value };
    if (variable === 'VAPID_PRIVATE_KEY') env.VAPID_PUBLIC_KEY = 'B'.repeat(87);
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^slotwatch: bad configuration: ${variable} `));
    expect((error as ConfigError).message).not.toContain('\n');
  });

  it('refuses local push endpoints on an https deployment, in one line naming the switch', () => {
    expect(loadConfig({ PUSH_ALLOW_LOCAL_ENDPOINTS: 'true', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' }).PUSH_ALLOW_LOCAL_ENDPOINTS).toBe(true);
    for (const env of [
      { PUSH_ALLOW_LOCAL_ENDPOINTS: 'true', PUBLIC_BASE_URL: 'https://slotwatch.example' },
      { PUSH_ALLOW_LOCAL_ENDPOINTS: 'true', PUBLIC_BASE_URL: 'HTTPS://slotwatch.example' },
    ]) {
      const error = (() => {
        try {
          loadConfig(env);
        } catch (err) {
          return err as ConfigError;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error!.variable).toBe('PUSH_ALLOW_LOCAL_ENDPOINTS');
      expect(error!.message).toMatch(/^slotwatch: bad configuration: PUSH_ALLOW_LOCAL_ENDPOINTS must not be true when PUBLIC_BASE_URL is https/);
      expect(error!.message).not.toContain('\n');
    }
    // the old name turned on is not silently ignored
    expect(() => loadConfig({ PUSH_ALLOW_HTTP_ENDPOINTS: 'true' })).toThrow(/PUSH_ALLOW_HTTP_ENDPOINTS is now PUSH_ALLOW_LOCAL_ENDPOINTS/);
  });

  it('reads PUSH_ENDPOINT_HOSTS as a list of host patterns, and names it when a pattern is bad', () => {
    expect(loadConfig({}).PUSH_ENDPOINT_HOSTS).toBeUndefined();
    expect(loadConfig({ PUSH_ENDPOINT_HOSTS: ' *.googleapis.com, Updates.Push.Services.Mozilla.com ,' }).PUSH_ENDPOINT_HOSTS).toEqual([
      '*.googleapis.com',
      'updates.push.services.mozilla.com',
    ]);
    for (const bad of ['*', 'https://fcm.googleapis.com', '*.com.*', 'localhost', ',']) {
      expect(() => loadConfig({ PUSH_ENDPOINT_HOSTS: bad }), bad).toThrow(/^slotwatch: bad configuration: PUSH_ENDPOINT_HOSTS /);
    }
  });

  it('does not echo a URL, which may carry a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres//admin:hunter2@db' })).toThrow(/^(?!.*hunter2)/s);
    expect(() => loadConfig({ DATABASE_DIRECT_URL: 'postgres//admin:hunter2@db' })).toThrow(/^(?!.*hunter2)/s);
    expect(() => loadConfig({ DATABASE_READ_URL: 'postgres//admin:hunter2@db' })).toThrow(/^(?!.*hunter2)/s);
  });

  it('defaults the direct and read URLs to DATABASE_URL, and turns named statements off behind a pooler', () => {
    const alone = loadConfig({ DATABASE_URL: 'postgres://app@db.example:5432/slotwatch' });
    expect(alone).toMatchObject({ DATABASE_DIRECT_URL: alone.DATABASE_URL, DATABASE_READ_URL: alone.DATABASE_URL, DATABASE_NAMED_STATEMENTS: true });
    const pooled = loadConfig({
      DATABASE_URL: 'postgres://app@pgbouncer.example:6432/slotwatch',
      DATABASE_DIRECT_URL: 'postgres://app@db.example:5432/slotwatch',
      DATABASE_READ_URL: 'postgres://app@replica.example:5432/slotwatch',
    });
    expect(pooled).toMatchObject({ DATABASE_DIRECT_URL: 'postgres://app@db.example:5432/slotwatch', DATABASE_READ_URL: 'postgres://app@replica.example:5432/slotwatch', DATABASE_NAMED_STATEMENTS: false });
    // a pooler that keeps prepared statements (PgBouncer 1.21+ with max_prepared_statements)
    expect(loadConfig({ DATABASE_URL: 'postgres://a@p:6432/s', DATABASE_DIRECT_URL: 'postgres://a@d:5432/s', DATABASE_NAMED_STATEMENTS: 'true' }).DATABASE_NAMED_STATEMENTS).toBe(true);
  });
});

describe('entry points with a malformed DATABASE_URL', () => {
  it.each([['src/cli/migrate.ts', 'up'], ['src/cli/main.ts', 'db:summary']])('%s stops at once with one line naming it', (file, arg) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, file), arg], {
      env: { ...process.env, DATABASE_URL: 'postgres//oops', LOG_LEVEL: 'info' },
      encoding: 'utf8',
      timeout: 20_000, // a hang guard: it must not try to connect
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^slotwatch: bad configuration: DATABASE_URL /)]);
  });
});
