/**
 * `npm run migrate` (apply all) and `npm run migrate:down` (revert the last one; `--all`
 * reverts every one). The Procfile's release phase runs the built form of this file.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config.js';

// configuration first: a bad variable stops the process before anything heavy loads
const config = loadConfigOrExit();
const { migrate, appliedMigrations } = await import('../db/migrate.js');
const { log } = await import('../log.js');
log.level = config.LOG_LEVEL;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { all: { type: 'boolean', default: false }, count: { type: 'string' } },
});
const direction = positionals[0] ?? 'up';
if (direction !== 'up' && direction !== 'down') {
  console.error(`migrate: unknown direction "${direction}" (use up or down)`);
  process.exit(2);
}
let count: number | undefined;
if (values.all) count = Infinity;
else if (values.count !== undefined) {
  count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) {
    console.error(`migrate: --count must be a whole number of at least 1 (got "${values.count}")`);
    process.exit(2);
  }
}

try {
  // direct, not through a transaction pooler: the migration lock is a session advisory lock
  // and each file is its own transaction on that one session
  const ran = await migrate({ databaseUrl: config.DATABASE_DIRECT_URL, direction, count, logger: log });
  const applied = await appliedMigrations(config.DATABASE_DIRECT_URL);
  const verb = direction === 'up' ? 'applied' : 'reverted';
  console.log(ran.length ? `${verb} ${ran.length}: ${ran.join(', ')}` : `nothing to ${direction === 'up' ? 'apply' : 'revert'}`);
  console.log(`${applied.length} migration(s) now applied${applied.length ? `, latest ${applied.at(-1)}` : ''}`);
} catch (err) {
  log.error({ err }, 'migration failed');
  console.error(`migrate: ${(err as Error).message}`);
  process.exitCode = 1;
}
