import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { errorsMarkdown } from '../../http/error-codes.js';
import { projectRoot } from '../../paths.js';
import { UsageError, type Command } from '../command.js';

export const ERRORS_DOC = join(projectRoot, 'docs', 'errors.md');

/** Writes docs/errors.md from the HTTP error catalogue; with --check, writes nothing and exits 1 when it is stale. */
export const docsErrors: Command = {
  name: 'docs:errors',
  usage: '[--check]',
  async run(args) {
    const check = args.includes('--check');
    if (args.some((a) => a !== '--check')) throw new UsageError(`unknown argument ${args.find((a) => a !== '--check')}`);
    const file = relative(projectRoot, ERRORS_DOC);
    const wanted = errorsMarkdown();
    if (!check) {
      await writeFile(ERRORS_DOC, wanted);
      console.log(`docs:errors: wrote ${file}`);
      return 0;
    }
    const current = await readFile(ERRORS_DOC, 'utf8').catch(() => '');
    if (current === wanted) return 0;
    console.error(`docs:errors: ${file} is out of date; run npm run cli -- docs:errors`);
    return 1;
  },
};
