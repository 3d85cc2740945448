import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, found from this file whether run from src/ or dist/. */
export const projectRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('slotwatch: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
})();

export const migrationsDir = join(projectRoot, 'migrations');

/** The current schema as one readable file, generated from the migrations (`npm run cli -- db:schema`). */
export const schemaFile = join(projectRoot, 'db', 'schema.sql');

/** The outward codes' centroids, shipped with the code (Open Government Licence data; see data/README.md). */
export const outcodesFile = join(projectRoot, 'data', 'uk-outcodes.csv');
