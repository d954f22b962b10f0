// Mutation testing (`npm run mutation`, outside CI: slow). Mutates the machines and the per-message
// dispatch path, runs the unit tests of vitest.mutation.config.ts against each mutant, and reports the
// score in reports/mutation/. Results and survivors are discussed in docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'src/machines/*.ts',
    'src/dispatch/*.ts',
    'src/retry/failure-path.ts',
    'src/consumer/consumer-session.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
