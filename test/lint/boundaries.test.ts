/**
 * The import rule of eslint.config.js, run on small files placed (virtually) in the tree:
 * each forbidden direction is refused with the rule's message, and the allowed ones pass.
 */
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: projectRoot });
});

/** The boundaries rule's messages for `code` as if it were the file at `filePath`. */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message);
}

describe('imports point one way', () => {
  it.each([
    ['a capability imports the HTTP edge', 'src/alerts/fixture.ts', "import { buildApp } from '../http/app.js';", 'capability', 'http'],
    ['a capability imports the worker jobs', 'src/booking/fixture.ts', "import { maintenanceTasks } from '../jobs/tasks.js';", 'capability', 'jobs'],
    ['queues/ imports a capability', 'src/queues/fixture.ts', "import { SETTINGS } from '../settings/definitions.js';", 'infrastructure', 'capability'],
    ['a file in src/ imports a capability', 'src/fixture.ts', "import { SETTINGS } from './settings/definitions.js';", 'infrastructure', 'capability'],
    ['src/ imports test/', 'src/slots/fixture.ts', "import { useTestContext } from '../../test/helpers/context.js';", 'capability', 'test'],
    ['the demo imports test/', 'src/demo/fixture.ts', "import { useTestApp } from '../../test/helpers/app.js';", 'demo', 'test'],
    ['a benchmark imports test/', 'bench/fixture.ts', "import { useTestContext } from '../test/helpers/context.js';", 'bench', 'test'],
    ['the dev stand-ins import a capability', 'dev/fixture.ts', "import { createUser } from '../src/accounts/users.js';", 'dev', 'capability'],
  ])('refuses it when %s', async (_what, filePath, line, from, to) => {
    const errors = await boundaryErrors(filePath, `${line}\nexport const used = [${line.match(/\{ (\w+) \}/)![1]}];\n`);
    expect(errors).toEqual([`There is no policy allowing dependencies from elements of type "${from}" to elements of type "${to}"`]);
  });

  it.each([
    ['a capability imports another and infrastructure', 'src/alerts/fixture.ts', "import { SETTINGS } from '../settings/definitions.js';\nimport { withTransaction } from '../db/transaction.js';"],
    ['the HTTP edge imports capabilities and the process deps', 'src/http/fixture.ts', "import { placeHold } from '../booking/holds.js';\nimport { createDeps } from '../process/deps.js';"],
    ['tests import anything', 'test/fixture.test.ts', "import { buildApp } from '../src/http/app.js';\nimport { startSmtpReceiver } from '../dev/smtp-receiver.js';"],
    ['the demo imports the dev stand-ins', 'src/demo/fixture.ts', "import { startSmtpReceiver } from '../../dev/smtp-receiver.js';"],
  ])('allows it when %s', async (_what, filePath, lines) => {
    const names = [...lines.matchAll(/\{ (\w+) \}/g)].map((m) => m[1]).join(', ');
    expect(await boundaryErrors(filePath, `${lines}\nexport const used = [${names}];\n`)).toEqual([]);
  });
});
