import { describe, expect, it } from 'vitest';
import { createRuntime, MemoryStreamStorage, Router } from '../../src/index.js';
import type { ReadGroupOptions, StreamEntry } from '../../src/storage/stream-storage.js';
import { flushAll, waitUntil } from './retry-support.js';

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
    if (this.delayMs > 0) await sleep(this.delayMs);
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
    await waitUntil(() => runtime.stats('s/g/c')!.processed >= total);
    await runtime.stop();
    // The first reads ask for the two free workers; once a handler time and a full read are measured,
    // for 2 × 2 workers × ~20 ms / ~2 ms ≈ 40 more (a loaded machine moves both averages).
    expect(storage.counts.slice(0, 2)).toEqual([2, 2]);
    const largest = Math.max(...storage.counts);
    expect(largest).toBeGreaterThan(2);
    expect(largest).toBeLessThan(500);
  });
});

describe('read sizes without read-ahead (prefetch: 0)', () => {
  /** A runtime whose handlers wait until released; `started` counts handler calls. */
  async function gatedRuntime(
    consumer: { concurrency: number; count?: number; prefetch?: number },
    messages: number,
  ) {
    const storage = new SlowReads(0);
    const release: Array<() => void> = [];
    let started = 0;
    const router = new Router().on('work', () => {
      started++;
      return new Promise<void>((resolve) => release.push(resolve));
    });
    const runtime = createRuntime({
      storage,
      router,
      closeStorage: false,
      consumers: [
        { stream: 's', group: 'g', consumer: 'c', prefetch: 0, startId: '0', blockMs: 20, ...consumer },
      ],
    });
    for (let n = 0; n < messages; n++) await storage.add('s', { type: 'work', n: String(n) });
    await runtime.start();
    const settle = () => flushAll(20);
    await settle();
    return {
      storage,
      started: () => started,
      async open(n: number) {
        for (const open of release.splice(0, n)) open();
        await settle();
      },
      async end() {
        for (const open of release.splice(0)) open();
        await runtime.stop();
        await storage.close();
      },
    };
  }

  it('handlers that settle within the turn free their workers before the read, which asks for all of them', async () => {
    const storage = new SlowReads(0);
    const runtime = createRuntime({
      storage,
      router: new Router().on('work', async () => {}),
      closeStorage: false,
      consumers: [
        { stream: 's', group: 'g', consumer: 'c', prefetch: 0, concurrency: 4, startId: '0', blockMs: 20 },
      ],
    });
    for (let n = 0; n < 12; n++) await storage.add('s', { type: 'work', n: String(n) });
    await runtime.start();
    await flushAll(20);
    expect(storage.counts.slice(0, 3)).toEqual([4, 4, 4]);
    await runtime.stop();
    await storage.close();
  });

  it('a read asks for the free workers only, once half of them are free', async () => {
    const r = await gatedRuntime({ concurrency: 4 }, 10);
    expect([r.started(), r.storage.counts]).toEqual([4, [4]]);
    await r.open(1);
    expect([r.started(), r.storage.counts]).toEqual([4, [4]]);
    await r.open(1);
    expect([r.started(), r.storage.counts]).toEqual([6, [4, 2]]);
    await r.end();
  });

  it('with `prefetch`, the next read waits until half the read-ahead was taken, then asks for what is free', async () => {
    // 2 workers + 6 read ahead: the first read asks for 8; 2 run, 6 wait.
    const r = await gatedRuntime({ concurrency: 2, prefetch: 6 }, 40);
    expect([r.started(), r.storage.counts]).toEqual([2, [8]]);
    // 2 done, 2 more started: 2 free, under half the read-ahead (3): no read yet (half the workers
    // would be 1, and would read here).
    await r.open(2);
    expect([r.started(), r.storage.counts]).toEqual([4, [8]]);
    await r.open(1);
    expect([r.started(), r.storage.counts]).toEqual([5, [8, 3]]);
    await r.end();
  });

  it('never asks for more than `count`, and reads as soon as `count` workers are free', async () => {
    const r = await gatedRuntime({ concurrency: 4, count: 1 }, 10);
    expect([r.started(), r.storage.counts]).toEqual([4, [1, 1, 1, 1]]);
    await r.open(1);
    expect([r.started(), r.storage.counts]).toEqual([5, [1, 1, 1, 1, 1]]);
    await r.end();
  });
});
