import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';

/** One `npm run cli -- <name> ...` command. */
export interface Command {
  name: string;
  usage?: string;
  run(args: string[], config: Config): Promise<number | void>;
}

/** A command as the registry lists it: loaded only when it is the one asked for. */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

/** A mistake in the command line itself: shown as one line with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command's --options, parsed strictly; anything parseArgs refuses is a UsageError naming it. */
export function parseOptions<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
