import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { describeSchemaDifference, formatSchemaDifference, generateSchema, PgDumpError, SCHEMA_COMMAND } from '../../db/schema.js';
import { projectRoot, schemaFile } from '../../paths.js';
import { parseOptions, type Command } from '../command.js';

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Writes db/schema.sql from a throwaway database on DATABASE_DIRECT_URL's server that it migrates
 * and drops; with --check, writes nothing and exits 1 when the file differs.
 */
export const dbSchema: Command = {
  name: 'db:schema',
  usage: '[--check] [--file PATH] [--pg-dump PATH]',
  async run(args, config) {
    const values = parseOptions(args, {
      check: { type: 'boolean', default: false },
      file: { type: 'string' },
      'pg-dump': { type: 'string' },
    });
    const file = values.file ? resolve(values.file) : schemaFile;
    const shown = relative(projectRoot, file).startsWith('..') ? file : relative(projectRoot, file);

    let generated: string;
    try {
      generated = await generateSchema({ serverUrl: config.DATABASE_DIRECT_URL, pgDump: values['pg-dump'] });
    } catch (err) {
      if (!(err instanceof PgDumpError)) throw err;
      console.error(`db:schema: ${err.message}`);
      return 1;
    }
    const difference = describeSchemaDifference(await readIfPresent(file), generated);
    if (!difference) {
      console.log(`${shown} is up to date with migrations/`);
      return 0;
    }
    if (values.check) {
      console.error(`db:schema: ${shown} differs from what migrations/ produce: ${formatSchemaDifference(difference)}\nRun \`${SCHEMA_COMMAND}${values.file ? ` --file ${shown}` : ''}\` to regenerate it.`);
      return 1;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, generated);
    const lines = generated.split('\n').length - 1; // the text ends with a newline
    console.log(`wrote ${shown} (${lines} lines); before: ${difference.headline}`);
    return 0;
  },
};
