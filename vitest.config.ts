import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@quantsim/source'] },
  ssr: { resolve: { conditions: ['@quantsim/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
