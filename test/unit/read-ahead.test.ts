import { describe, expect, it } from 'vitest';
import { createRuntime, MemoryStreamStorage, Router } from '../../src/index.js';
import type { ReadGroupOptions, StreamEntry } from '../../src/storage/stream-storage.js';

// The adaptive read-ahead end to end (without `prefetch`): the consumer measures its handlers and
// its full reads and reads ahead what its workers run in two round trips (read-size.ts has the
// formula; read-size.test.ts the arithmetic).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Memory storage whose reads take `delayMs` of real time (a round trip), recording each read's count. */
class SlowReads extends MemoryStreamStorage {
  readonly counts: number[] = [];
  constructor(readonly delayMs: number) {
    super();
  }
  override async readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]> {
    this.counts.push(options.count);
    await sleep(this.delayMs);
    return super.readGroup(stream, group, consumer, options);
  }
}

describe('adaptive read-ahead', () => {
  it('handlers shorter than a read: reads grow past the free workers, bounded by two round trips of work', async () => {
    const storage = new SlowReads(20);
    const total = 300;
    const router = new Router().on('work', () => {
      const until = performance.now() + 2;
      while (performance.now() < until) {
        // a 2 ms handler
      }
    });
    const runtime = createRuntime({
      storage,
      router,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 2, startId: '0', blockMs: 50 }],
    });
    for (let n = 0; n < total; n++) await storage.add('s', { type: 'work', n: String(n) });
    await runtime.start();
    while (runtime.stats('s/g/c')!.processed < total) await sleep(5);
    await runtime.stop();
    // The first reads ask for the two free workers; once a handler time and a full read are measured,
    // for 2 × 2 workers × ~20 ms / ~2 ms ≈ 40 more (a loaded machine moves both averages).
    expect(storage.counts.slice(0, 2)).toEqual([2, 2]);
    const largest = Math.max(...storage.counts);
    expect(largest).toBeGreaterThan(2);
    expect(largest).toBeLessThan(500);
  });
});
