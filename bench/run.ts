/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, whose default export is an async
 * function taking the remaining args. Benchmarks print their figures and ratios against a
 * baseline measured in the same run, and write them to bench/results/<name>.json.
 *
 * `npm run bench` with no name runs every benchmark in turn, each in a child process with
 * the short arguments in bench/_summary.ts (the whole takes about twenty-five minutes on two cores; run it
 * under `flock /tmp/sw-heavy.lock` on a shared machine), shows progress, keeps each
 * benchmark's output in bench/results/logs/<name>.log, and writes bench/results/summary.md.
 * `npm run bench -- --except e2e,burst` runs all but those (their figures in summary.md are
 * then their last runs'); `npm run bench -- --summary-only` writes summary.md from the JSON
 * already in bench/results/.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { SUMMARY_ARGS, writeSummary } from './_summary.js';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));

/** Runs one benchmark in a child process, its output to `logFile`; resolves with its exit code. */
function runChild(name: string, args: string[], logFile: string): Promise<number> {
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  return new Promise((resolve) => child.on('exit', (code) => out.end(() => resolve(code ?? 1))));
}

async function runAll(except: string[]): Promise<void> {
  const logs = join(here, 'results', 'logs');
  mkdirSync(logs, { recursive: true });
  const names = Object.keys(SUMMARY_ARGS).filter((n) => available.includes(n) && !except.includes(n));
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} | {name} | {seconds} s | done: {done}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const outcomes: Record<string, { code: number; seconds: number }> = {};
  bar.start(names.length, 0, { name: '', seconds: 0, done: '' });
  for (const name of names) {
    const t0 = Date.now();
    const tick = setInterval(() => bar.update({ seconds: Math.round((Date.now() - t0) / 1000) }), 1000);
    bar.update({ name, seconds: 0 });
    const code = await runChild(name, SUMMARY_ARGS[name]!, join(logs, `${name}.log`));
    clearInterval(tick);
    outcomes[name] = { code, seconds: Math.round((Date.now() - t0) / 1000) };
    bar.increment({ done: Object.entries(outcomes).map(([n, o]) => `${n}${o.code ? ' FAILED' : ''} ${o.seconds}s`).join(', ') });
  }
  bar.stop();
  const failed = Object.entries(outcomes).filter(([, o]) => o.code !== 0);
  for (const [n] of failed) console.error(`bench ${n} failed: see bench/results/logs/${n}.log`);
  writeFileSync(join(here, 'results', 'summary.md'), writeSummary(outcomes));
  console.log('written to bench/results/summary.md');
  if (failed.length) process.exitCode = 1;
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === '--except') {
  await runAll(name ? (args[0] ?? '').split(',') : []);
} else if (name === '--summary-only') {
  writeFileSync(join(here, 'results', 'summary.md'), writeSummary(null));
  console.log('written to bench/results/summary.md (from the JSON already in bench/results/)');
} else if (!available.includes(name)) {
  console.error(`usage: npm run bench [-- <${available.join('|') || 'name'}> [args] | -- --except a,b | -- --summary-only]\nno benchmark named "${name}"`);
  process.exit(2);
} else {
  const mod = (await import(`./${name}.ts`)) as { default: (args: string[]) => Promise<void> };
  await mod.default(args);
}
