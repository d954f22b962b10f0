import { describe, expect, it } from 'vitest';
import { toView } from '../../src/dashboard/view.js';
import type { ConsumerSnapshot } from '../../src/index.js';

function consumer(workers: ConsumerSnapshot['workers']): ConsumerSnapshot {
  return {
    id: 'a',
    stream: 's',
    group: 'g',
    consumer: 'c',
    state: 'polling',
    restarts: 0,
    keysWaiting: 0,
    concurrency: 1,
    inFlight: 1,
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
    workers,
  };
}

describe('the dashboard view of a batch', () => {
  it("carries a worker's batch (size, first id) and nothing for single messages", () => {
    const view = toView(
      {
        status: 'running',
        consumers: [
          consumer([
            { id: 'w0', state: 'running', messageId: '5-0', batchSize: 100, attempt: 2 },
            { id: 'w1', state: 'running', messageId: '6-0', batchSize: null, attempt: 1 },
          ]),
        ],
      },
      new Map(),
      new Map(),
    );
    expect(view.consumers[0]!.workers).toEqual([
      { id: 'w0', state: 'running', attempt: 2, batch: { size: 100, firstId: '5-0' } },
      { id: 'w1', state: 'running', attempt: 1, batch: null },
    ]);
  });
});
