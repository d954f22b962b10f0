import type { ConsumerSnapshot } from '../../src/runtime/runtime-snapshot.js';

/**
 * A consumer's snapshot for tests of what reads snapshots (the dashboard's view and feed, metrics):
 * an idle consumer with every counter at 0, no workers, and `overrides` on top.
 */
export function consumerSnapshot(overrides: Partial<ConsumerSnapshot> = {}): ConsumerSnapshot {
  return {
    id: 'a',
    stream: 'orders',
    group: 'g',
    consumer: 'a',
    state: 'polling',
    restarts: 0,
    inFlight: 0,
    keysWaiting: 0,
    processed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    deadLetteredByReason: {},
    deadLetterFailures: 0,
    scheduled: 0,
    unrouted: 0,
    trimmed: 0,
    published: 0,
    lastExit: null,
    concurrency: 0,
    workers: [],
    ...overrides,
  };
}
