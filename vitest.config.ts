import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    // two files at a time. Vitest's default on two cores is one (cores - 1), which leaves a
    // core idle while a file waits on PostgreSQL, Redis, a child process or a browser, as most
    // of these do; fault drills stay one at a time (vitest.faults.config.ts)
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // the default reporter for people; the JSON file is what .ci/run counts
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
