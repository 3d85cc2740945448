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
  {
    name: 'db:schema',
    summary: 'write db/schema.sql from a freshly migrated throwaway database (--check: exit 1 if it differs)',
    load: async () => (await import('./commands/db-schema.js')).dbSchema,
  },
  {
    name: 'docs:errors',
    summary: 'write docs/errors.md from the HTTP error catalogue (--check: exit 1 if it differs)',
    load: async () => (await import('./commands/docs-errors.js')).docsErrors,
  },
  { name: 'queues:status', summary: 'counts per queue and state, oldest waiting age, failed count', load: async () => (await import('./commands/queues.js')).queuesStatus },
  { name: 'queues:failed', summary: 'the last failures of a queue with their reasons', load: async () => (await import('./commands/queues.js')).queuesFailed },
  { name: 'queues:retry', summary: 'move every failed job of a queue back to waiting', load: async () => (await import('./commands/queues.js')).queuesRetry },
  { name: 'queues:pause', summary: 'stop workers taking new jobs from a queue', load: async () => (await import('./commands/queues.js')).queuesPause },
  { name: 'queues:resume', summary: 'let workers take jobs from a paused queue again', load: async () => (await import('./commands/queues.js')).queuesResume },
  { name: 'users:create', summary: 'create an account: --email E --role ADMIN|OPERATOR|CLIENT, the password from stdin or a prompt', load: async () => (await import('./commands/users-create.js')).usersCreate },
  { name: 'centers:import', summary: 'load test centres from a DVSA-format CSV, idempotently by id', load: async () => (await import('./commands/centers-import.js')).centersImport },
  {
    name: 'postcodes:import',
    summary: 'replace the postcodes table with a .csv or .csv.gz of full postcodes (the shared file, or ONS NSPL/ONSPD), all or nothing',
    load: async () => (await import('./commands/postcodes-import.js')).postcodesImport,
  },
  { name: 'secret:generate', summary: 'print a new SECRET_KEY for the web process', load: async () => (await import('./commands/secret-generate.js')).secretGenerate },
  { name: 'vapid:generate', summary: 'print a new VAPID key pair for web push', load: async () => (await import('./commands/vapid-generate.js')).vapidGenerate },
  { name: 'feed:poll', summary: 'poll the availability feed (FEED_URL, or the URL given) once and print what it changed', load: async () => (await import('./commands/feed-poll.js')).feedPoll },
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
