import { defineConfig } from 'vitest/config';

// Two projects, both run by `npm test`: unit tests fake collaborators; integration tests talk to
// the real Postgres, Redis and local chain, each file isolated by its own database and key prefix.
export default defineConfig({
  test: {
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
