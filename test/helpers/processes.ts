/**
 * Real worker/web processes for tests: `node --import tsx <entry>` (or `node <entry>` for
 * built code) with the test file's database, Redis and queue prefix, their JSON log lines
 * collected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { newSecretKey } from '../../src/config.js';
import { projectRoot } from '../../src/paths.js';
import type { TestContext } from './context.js';

export interface RunningProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far (non-JSON lines are kept as { msg: line }). */
  logs: Record<string, unknown>[];
  /** Resolves when a log line's msg equals `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ProcessOptions {
  /** Also append every output line to this file (created with its directory), for a reader after the test. */
  logFile?: string;
}

/** Starts `entry` (relative to the project root) as a child process on the test's services. */
export function startProcess(entry: string, ctx: TestContext, env: Record<string, string> = {}, options: ProcessOptions = {}): RunningProcess {
  return startLoggingProcess(entry, { DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl, QUEUE_PREFIX: ctx.redisPrefix, ...env }, options);
}

/**
 * Starts `entry` (relative to the project root) with `env` added to this process's
 * environment, a throwaway SECRET_KEY unless `env` gives one (the web process needs it), and
 * METRICS_PORT 0.
 */
export function startLoggingProcess(entry: string, env: Record<string, string> = {}, options: ProcessOptions = {}): RunningProcess {
  // built code (dist/…js) runs as the Procfile runs it; sources through tsx
  const args = entry.endsWith('.js') ? [join(projectRoot, entry)] : ['--import', 'tsx', join(projectRoot, entry)];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      CI: '1', // JSON logs even when the test runs on a terminal
      SECRET_KEY: newSecretKey(),
      // a web process's metrics listener on any free port: test files run side by side
      METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let file: ReturnType<typeof createWriteStream> | undefined;
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    file = createWriteStream(options.logFile, { flags: 'a' });
  }
  const waiters: { msg: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  // one buffer per stream: a line half-read from stdout must not be joined to stderr's
  const lineReader = () => {
    let buffer = '';
    return (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        file?.write(`${line}\n`);
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          parsed = { msg: line };
        }
        logs.push(parsed);
        for (const w of waiters.filter((w) => w.msg === parsed.msg)) w.resolve(parsed);
      }
    };
  };
  child.stdout!.on('data', lineReader());
  child.stderr!.on('data', lineReader());
  // 'close', not 'exit': it comes once the process's output has been read to the end, so
  // the last log lines are in `logs` when this resolves
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      if (file) file.end(() => resolve({ code, signal }));
      else resolve({ code, signal });
    }),
  );
  return {
    child,
    logs,
    exited,
    waitForLog(msg, timeoutMs = 30_000) {
      const seen = logs.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${msg}" log from ${entry} within ${timeoutMs} ms; last lines: ${JSON.stringify(logs.slice(-5))}`)), timeoutMs);
        waiters.push({
          msg,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${entry} exited before logging "${msg}"; last lines: ${JSON.stringify(logs.slice(-5))}`));
        });
      });
    },
  };
}

/** Sends SIGTERM and waits for the exit; SIGKILLs after `timeoutMs` so a test never hangs. */
export async function stopProcess(p: RunningProcess, timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const killer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const result = await p.exited;
  clearTimeout(killer);
  return { ...result, ms: Date.now() - started };
}
