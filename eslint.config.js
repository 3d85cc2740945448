import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

/**
 * The folders and the one direction their imports may go: edges (the HTTP app, the CLI,
 * the worker's jobs, the demo, the process entry points) use capabilities, capabilities
 * use each other and infrastructure, infrastructure uses only itself. Nothing but tests
 * imports test/. madge (npm run lint) refuses import cycles on top of this.
 */
const ELEMENTS = [
  { type: 'infrastructure', pattern: 'src/{db,queues}' },
  { type: 'composition', pattern: 'src/process' },
  { type: 'capability', pattern: 'src/{settings,audit,accounts,slots,watches,alerts,booking,metrics,privacy}' },
  { type: 'http', pattern: 'src/http' },
  { type: 'cli', pattern: 'src/cli' },
  { type: 'jobs', pattern: 'src/jobs' },
  { type: 'demo', pattern: 'src/demo' },
  // what is left directly in src/: config.ts, log.ts, paths.ts, html.ts, random.ts, shutdown.ts
  { type: 'infrastructure', pattern: 'src' },
  { type: 'entry', pattern: 'workers' },
  { type: 'dev', pattern: 'dev' },
  { type: 'bench', pattern: 'bench' },
  { type: 'test', pattern: 'test' },
].map((element) => ({ ...element, partialMatch: false }));

const may = (from, to) => ({ from: { element: { type: from } }, allow: [{ to: { element: { types: { anyOf: to } } } }] });
const LOWER = ['infrastructure', 'capability'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // command-line entry points and benchmarks talk to a terminal on purpose
    files: ['src/cli/**', 'src/demo/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/elements': ELEMENTS,
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            may('infrastructure', ['infrastructure']),
            may('capability', LOWER),
            may('composition', LOWER),
            may('http', [...LOWER, 'composition', 'http']),
            may('jobs', [...LOWER, 'composition', 'jobs']),
            // the CLI writes the HTTP API's error catalogue out as docs/errors.md
            may('cli', [...LOWER, 'composition', 'cli', 'http']),
            may('demo', [...LOWER, 'demo', 'dev']),
            may('entry', ['infrastructure', 'composition', 'http', 'jobs']),
            may('dev', ['infrastructure', 'dev']),
            may('bench', [...LOWER, 'composition', 'jobs', 'http', 'dev', 'demo', 'bench']),
            may('test', ['infrastructure', 'capability', 'composition', 'http', 'jobs', 'cli', 'demo', 'dev', 'test']),
          ],
        },
      ],
    },
  },
);
