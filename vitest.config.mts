import { resolve } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

// npm test runs vitest in the package's folder.
const dist = resolve('dist');

export default defineConfig({
  resolve: {
    // The tests import lib/ (for its types) and run dist/, what the package
    // ships: `npm test` compiles first. dist/ is left to Node's own loader
    // (below), so a module loaded on first use by a require() inside the
    // library is the same instance the tests imported.
    alias: [{ find: /^(?:\.\.\/)+lib(\/.*)?$/, replacement: `${dist}$1` }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The Windows kernel's test runs only there (a Windows runner); on Linux
    // the same script runs under wine (scripts/test-windows.sh), so nothing
    // is collected here only to be skipped.
    exclude: [...configDefaults.exclude, ...(process.platform === 'win32' ? [] : ['test/windows.test.ts'])],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // The slow files mostly wait on kernel timers (outages, the demo), not
    // the CPU: run more of them at once than the two cores would suggest.
    maxWorkers: 4,
    reporters: ['default', './test/summary-reporter.ts'],
    server: { deps: { external: [/\/node_modules\//, /\/dist\//] } },
  },
});
