/**
 * SECRET_KEY: required where it is used (the web process), checked for length, printed by
 * `secret:generate` without needing any configuration, and keying the email digests.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, newSecretKey } from '../../src/config.js';
import { emailDigest } from '../../src/http/secret-key.js';

const run = promisify(execFile);

describe('SECRET_KEY', () => {
  it('is optional to load, and refused in one line when a process requires it and it is unset', () => {
    expect(loadConfig({}).SECRET_KEY).toBeUndefined();
    expect(() => loadConfig({ SECRET_KEY: '  ' }, { require: ['SECRET_KEY'] })).toThrow(
      new ConfigError('slotwatch: bad configuration: SECRET_KEY is not set; generate one with `npm run cli -- secret:generate`', 'SECRET_KEY'),
    );
    const key = newSecretKey();
    expect(loadConfig({ SECRET_KEY: key }, { require: ['SECRET_KEY'] }).SECRET_KEY).toBe(key);
  });

  it.each([
    ['31 bytes', Buffer.alloc(31, 7).toString('base64url')],
    ['not base64url', `${'a'.repeat(40)} b c`],
    ['a short password', 'hunter2'],
  ])('refuses %s, without echoing it', (_name, value) => {
    let error: unknown;
    try {
      loadConfig({ SECRET_KEY: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      'slotwatch: bad configuration: SECRET_KEY must be at least 32 random bytes as base64url, 43+ characters (npm run cli -- secret:generate)',
    );
  });

  it('keys the email digests: another key, another digest; the same address in any case, the same one', () => {
    const a = loadConfig({ SECRET_KEY: newSecretKey() });
    const b = loadConfig({ SECRET_KEY: newSecretKey() });
    expect(emailDigest(a, 'Someone@Example.com')).toBe(emailDigest(a, 'someone@example.com'));
    expect(emailDigest(a, 'someone@example.com')).not.toBe(emailDigest(b, 'someone@example.com'));
    expect(emailDigest(a, 'someone@example.com')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('is printed by secret:generate, which needs no SECRET_KEY itself', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
    delete env.SECRET_KEY;
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'secret:generate'], { env });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const [name, value] = lines[0]!.split(/=(.*)/s) as [string, string];
    expect(name).toBe('SECRET_KEY');
    expect(Buffer.from(value, 'base64url')).toHaveLength(32);
    expect(loadConfig({ SECRET_KEY: value }, { require: ['SECRET_KEY'] }).SECRET_KEY).toBe(value);
    expect(stderr).toMatch(/resets the sign-in rate-limit counters and device cookies, nothing else/);
    await expect(run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'secret:generate', 'extra'], { env })).rejects.toMatchObject({ code: 2 });
  });
});
