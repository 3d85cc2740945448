/** The operator CLI as a person runs it: `node --import tsx src/cli/main.ts ...` in a child process. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/paths.js';

/**
 * Runs the CLI with `args` and `env` added to this process's environment, `input` on its
 * standard input (which is then closed, so a command reading it never waits); resolves
 * with how it ended, whatever the exit code.
 */
export function runCli(args: string[], env: Record<string, string>, o: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args],
      { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: o.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(o.input ?? '');
  });
}
