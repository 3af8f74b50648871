import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // The slow files mostly wait on kernel timers (outages, the demo), not
    // the CPU: run more of them at once than the two cores would suggest.
    maxWorkers: 4,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
