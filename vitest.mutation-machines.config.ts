import { defineConfig } from 'vitest/config';

// The tests StrykerJS runs against each mutant of src/machines (`npm run mutation`, see
// stryker.config.mjs and docs/testing.md): the machines' own unit tests and transition tables, in
// milliseconds. A machine definition is built when its module loads, so most of its mutants are
// "static" and run every test of this set: the runtime tests (vitest.mutation.config.ts) would make
// each of those runs take tens of seconds. Left out as well: machine-paths.test.ts (model-based,
// ~25 s a run; the transition tables check the same definitions).
export default defineConfig({
  test: {
    include: [
      'test/unit/consumer-machine.test.ts',
      'test/unit/supervisor-machine.test.ts',
      'test/unit/dispatch-worker-machine.test.ts',
      'test/unit/transition-tables.test.ts',
      'test/unit/backoff.test.ts',
      'test/unit/machine-helpers.test.ts',
      'test/unit/classify-error.test.ts',
      'test/docs/architecture-diagrams.test.ts',
      'test/unit/machine-graph.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    setupFiles: ['test/helpers/setup.ts'],
  },
});
