import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Cross-process tests spawn real node processes; two cores are shared between them.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
