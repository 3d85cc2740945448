/**
 * Whether the built code (dist/, what the Procfile runs) is older than its sources, for
 * the benchmarks and drills that run it: a stale build would measure yesterday's code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';

const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);

/** True when `built` (relative to the project root) is missing or older than any file under src/ or workers/. */
export function builtIsStale(built: string): boolean {
  const path = join(projectRoot, built);
  if (!existsSync(path)) return true;
  return statSync(path).mtimeMs < Math.max(newest(join(projectRoot, 'src')), newest(join(projectRoot, 'workers')));
}
