/**
 * `npm run cli -- <command> [args]`: the operator's command line. Each command lives in
 * src/cli/commands/ and is listed in `commands` below; only the one asked for is loaded.
 */
import { loadConfigOrExit } from '../config.js';
import { UsageError, type CommandEntry } from './command.js';

const commands: CommandEntry[] = [
  {
    name: 'db:summary',
    summary: 'show applied migrations and, per table, its rows, constraints and indexes',
    load: async () => (await import('./commands/db-summary.js')).dbSummary,
  },
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return ['usage: npm run cli -- <command> [args]', '', 'commands:', ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)].join('\n');
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === 'help' || name === '--help' || name === '-h') {
  console.log(help());
  process.exit(name ? 0 : 2);
}
const entry = commands.find((c) => c.name === name);
if (!entry) {
  console.error(`cli: unknown command "${name}"\n\n${help()}`);
  process.exit(2);
}

const config = loadConfigOrExit();
const { log } = await import('../log.js');
log.level = config.LOG_LEVEL;
const command = await entry.load();
try {
  const code = await command.run(args, config);
  process.exitCode = typeof code === 'number' ? code : 0;
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`${command.name}: ${err.message}${command.usage ? `\nusage: npm run cli -- ${command.name} ${command.usage}` : ''}`);
    process.exitCode = 2;
  } else {
    log.error({ err }, `${command.name} failed`);
    console.error(`${command.name}: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
