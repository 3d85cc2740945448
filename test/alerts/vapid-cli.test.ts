/** `npm run cli -- vapid:generate` prints a key pair the config accepts and web push can use. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const run = promisify(execFile);

describe('vapid:generate', () => {
  it('prints VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY lines that configure web push', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'vapid:generate'], { env: { ...process.env, LOG_LEVEL: 'silent' } });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const env = Object.fromEntries(lines.map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(Object.keys(env)).toEqual(['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY']);
    const config = loadConfig(env);
    expect(config.VAPID_PUBLIC_KEY).toBe(env.VAPID_PUBLIC_KEY);
    // a pair that signs: web-push builds VAPID headers with it
    const headers = webpush.getVapidHeaders('https://push.example.net', 'mailto:a@b.example', env.VAPID_PUBLIC_KEY!, env.VAPID_PRIVATE_KEY!, 'aes128gcm');
    expect(String(headers.Authorization)).toMatch(/^vapid t=.+, k=/);
  });

  it('refuses arguments with exit code 2', async () => {
    await expect(run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'vapid:generate', 'extra'])).rejects.toMatchObject({ code: 2 });
  });
});
