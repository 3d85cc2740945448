import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the drills in test/faults, each with real processes and real
 * services, some of which it stops and starts. Kept out of `npm test` because each drill
 * takes tens of seconds of outage by design; .ci/run runs both.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.drill.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    // one drill at a time: each measures how fast processes come back, and a second drill
    // beside it on 2 cores turns a one-second restart into ten
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/faults.json' },
  },
});
