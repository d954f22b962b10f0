// Mutation testing of the per-message path (`npm run mutation`, after the machines): the dispatch
// folder, the failure path and the consumer session, against the runtime unit tests of
// vitest.mutation.config.ts (simulated clock, memory storage). Reports to reports/mutation/dispatch/.
import machines from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...machines,
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: [
    'src/actors/dispatch/*.ts',
    'src/actors/retry/failure-path.ts',
    'src/actors/consumer/consumer-io.ts',
  ],
  htmlReporter: { fileName: 'reports/mutation/dispatch/index.html' },
  jsonReporter: { fileName: 'reports/mutation/dispatch/mutation.json' },
  tempDirName: '.stryker-tmp-dispatch',
};
