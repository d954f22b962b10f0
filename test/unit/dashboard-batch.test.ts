import { describe, expect, it } from 'vitest';
import { toView } from '../../src/dashboard/view.js';
import type { ConsumerSnapshot } from '../../src/index.js';
import { consumerSnapshot } from '../helpers/consumer-snapshot.js';

function consumer(workers: ConsumerSnapshot['workers']): ConsumerSnapshot {
  return consumerSnapshot({ stream: 's', consumer: 'c', concurrency: 1, inFlight: 1, workers });
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
