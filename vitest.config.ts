// SPDX-License-Identifier: MIT
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One private PostgreSQL and one nats-server for the whole run; each test file makes its own
    // database and namespace on them (test/support/env.ts).
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    // Two cores: two test files at a time, the servers take the rest.
    maxWorkers: 2,
  },
});
