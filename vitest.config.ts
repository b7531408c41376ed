import { defineConfig } from 'vitest/config';

// Two projects, both run by `npm test`: unit tests fake collaborators; integration tests talk to
// the real Postgres, Redis and local chain, each file isolated by its own database and key prefix.
export default defineConfig({
  test: {
    // Vitest's default is one worker less than the cores (1 here): two files at once keep both cores
    // busy while integration tests wait on Postgres, Redis, the chain and their worker processes.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
