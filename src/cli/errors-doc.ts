/**
 * `node --import tsx src/cli/errors-doc.ts`: writes docs/errors.md from the error catalogue
 * (src/http/error-codes.ts). `--check` writes nothing and exits 1 when the file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorsMarkdown } from '../http/error-codes.js';
import { projectRoot } from '../paths.js';

const file = join(projectRoot, 'docs', 'errors.md');
const wanted = errorsMarkdown();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing is stale
  }
  if (current !== wanted) {
    console.error(`errors-doc: ${file} is out of date; run node --import tsx src/cli/errors-doc.ts`);
    process.exitCode = 1;
  }
} else {
  writeFileSync(file, wanted);
  console.log(`errors-doc: wrote ${file}`);
}
