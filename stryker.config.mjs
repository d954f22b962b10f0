// Mutation testing of the machines (`npm run mutation` runs this, then stryker.dispatch.config.mjs;
// outside CI: slow). Mutates src/machines, runs the machine tests of vitest.mutation-machines.config.ts
// against each mutant, and reports to reports/mutation/machines/. Results and survivors are discussed
// in docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation-machines.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['src/machines/*.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/machines/index.html' },
  jsonReporter: { fileName: 'reports/mutation/machines/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
