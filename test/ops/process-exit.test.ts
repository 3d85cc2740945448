/**
 * How a process using exitOnSignals ends (src/shutdown.ts), on a real child process
 * (test/fixtures/graceful-child.ts): a second SIGTERM cuts a slow shutdown short, an
 * uncaught exception or unhandled rejection is logged and closes the process with exit
 * code 1, and SHUTDOWN_TIMEOUT_SECONDS still bounds every shutdown.
 */
import { describe, expect, it } from 'vitest';
import { startLoggingProcess, stopProcess, type RunningProcess } from '../helpers/processes.js';

const FIXTURE = 'test/fixtures/graceful-child.ts';

async function started(env: Record<string, string>): Promise<RunningProcess> {
  const child = startLoggingProcess(FIXTURE, env);
  await child.waitForLog('ready');
  return child;
}

const messages = (p: RunningProcess) => p.logs.map((l) => l.msg);

describe('a process using exitOnSignals', () => {
  it('on SIGINT closes and exits 0, as on SIGTERM', async () => {
    const child = await started({});
    child.child.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.logs.find((l) => l.msg === 'child stopping')).toMatchObject({ signal: 'SIGINT' });
    expect(messages(child).slice(-3)).toEqual(['closing', 'closed', 'child stopped']);
  });

  it('on a second SIGTERM during a slow shutdown exits at once with code 1, saying so', async () => {
    const child = await started({ CLOSE_MS: '20000', SHUTDOWN_TIMEOUT_SECONDS: '25' });
    child.child.kill('SIGTERM');
    await child.waitForLog('closing');
    const second = Date.now();
    child.child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(Date.now() - second).toBeLessThan(5000);
    expect(child.logs.find((l) => l.msg === 'child received a second SIGTERM while stopping; exiting now')).toMatchObject({ level: 50, signal: 'SIGTERM' });
    expect(messages(child)).not.toContain('closed');
    expect(messages(child)).not.toContain('child stopped');
  });

  it.each([
    { fault: 'throw', origin: 'uncaughtException', message: 'child stopping after an uncaught exception', error: 'planted exception' },
    { fault: 'reject', origin: 'unhandledRejection', message: 'child stopping after an unhandled rejection', error: 'planted rejection' },
  ])('on FAULT=$fault logs the error, closes, and exits 1', async ({ fault, origin, message, error }) => {
    const child = await started({ FAULT: fault });
    expect(await child.exited).toEqual({ code: 1, signal: null });
    const fatal = child.logs.find((l) => l.msg === message);
    expect(fatal).toMatchObject({ level: 60, origin, err: { type: 'Error', message: error } });
    expect((fatal!.err as { stack: string }).stack).toContain('graceful-child.ts');
    expect(messages(child).slice(-5)).toEqual([message, 'child stopping', 'closing', 'closed', 'child stopped']);
    expect(child.logs.find((l) => l.msg === 'child stopping')).toMatchObject({ cause: origin });
    expect(child.logs.find((l) => l.msg === 'child stopped')).toMatchObject({ exitCode: 1 });
  });

  it('on a rejection with no reason still closes and exits 1', async () => {
    const child = await started({ FAULT: 'reject-nothing' });
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(messages(child).slice(-5)).toEqual(['child stopping after an unhandled rejection', 'child stopping', 'closing', 'closed', 'child stopped']);
  });

  it('exits 1 after SHUTDOWN_TIMEOUT_SECONDS when close does not finish, after a signal or an error', async () => {
    for (const env of [{}, { FAULT: 'throw' }] as Record<string, string>[]) {
      const child = await started({ ...env, CLOSE: 'hang', SHUTDOWN_TIMEOUT_SECONDS: '1' });
      const t0 = Date.now();
      if (!env.FAULT) child.child.kill('SIGTERM');
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(child.logs.find((l) => l.msg === 'child shutdown timed out; exiting with work still open')).toMatchObject({ seconds: 1 });
      expect(messages(child)).not.toContain('child stopped');
    }
  });

  it('exits 1 when close fails, with the failure logged', async () => {
    const child = await started({ CLOSE: 'fail' });
    const stopped = await stopProcess(child);
    expect(stopped).toMatchObject({ code: 1, signal: null });
    expect(child.logs.find((l) => l.msg === 'child failed to close cleanly')).toMatchObject({ err: { message: 'planted close failure' } });
    expect(messages(child)).not.toContain('child stopped');
  });

  it('leaves SIGHUP to Node, which ends the process without a shutdown', async () => {
    const child = await started({});
    child.child.kill('SIGHUP');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGHUP' });
    expect(messages(child)).not.toContain('child stopping');
  });
});
