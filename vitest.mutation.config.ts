import { defineConfig } from 'vitest/config';

// The tests StrykerJS runs against each mutant (`npm run mutation`, see stryker.config.mjs and
// docs/testing.md): the unit tests of the machines and of the per-message path, all on memory storage
// (most on the simulated clock; the busy-period and read-ahead tests need the real event loop, and take
// under a second), none on a real Redis, so a mutant's run takes seconds, not minutes.
// runtime-dispatch.test.ts covers `runtime.dispatch` (src/actors/dispatch/dispatch-once.ts, moved in
// from src/routing), finished-job.test.ts the worker slot a job leaves behind.
// Left out: machine-paths.test.ts (model-based, ~25 s a run: it would run for every static mutant of
// a machine definition; the transition tables check the same definitions in milliseconds).
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
      'test/unit/retry-*.test.ts',
      'test/unit/worker-truth.test.ts',
      'test/unit/handler-attempts.test.ts',
      'test/unit/consumer-drain.test.ts',
      'test/unit/ordering-keys.test.ts',
      'test/unit/read-ahead.test.ts',
      'test/unit/read-loop.test.ts',
      'test/unit/ack-failures.test.ts',
      'test/unit/own-pending.test.ts',
      'test/unit/worker-wake.test.ts',
      'test/unit/failure-logs.test.ts',
      'test/unit/job-queue.test.ts',
      'test/unit/prefetch.test.ts',
      'test/unit/runtime-errors.test.ts',
      'test/unit/testing-kit.test.ts',
      'test/unit/metrics.test.ts',
      'test/unit/runtime-dispatch.test.ts',
      'test/unit/finished-job.test.ts',
      'test/unit/worker-actor.test.ts',
      'test/docs/architecture-diagrams.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    setupFiles: ['test/helpers/setup.ts'],
  },
});
