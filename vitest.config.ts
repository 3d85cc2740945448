import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // the default reporter for people; the JSON file is what .ci/run counts
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
