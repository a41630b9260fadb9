import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Workers are forked after global setup, so they inherit NODE_EXTRA_CA_CERTS (the local CA).
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Failures should name themselves, not drown in Azurite/host chatter.
    silent: 'passed-only',
  },
});
