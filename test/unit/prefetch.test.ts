import { describe, expect, it } from 'vitest';
import { Router } from '../../src/index.js';
import { createTestRuntime } from '../../src/testing/index.js';

describe('prefetch', () => {
  it('reads ahead of free workers but never runs more than concurrency handlers at once, in stream order', async () => {
    const started: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const gates: Array<() => void> = [];
    const router = new Router().on('n', async (message) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      started.push((message.payload as { n: number }).n);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
    });
    const t = createTestRuntime({
      router,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 2, prefetch: 3, blockMs: 1_000 }],
    });
    await t.start();
    for (let n = 1; n <= 5; n++) await t.storage.add('s', { type: 'n', payload: JSON.stringify({ n }) });
    await t.settle();
    // One read took all five (2 workers + 3 prefetched); only two handlers run.
    expect(started).toEqual([1, 2]);
    expect(await t.storage.pending('s', 'g', { count: 10 })).toHaveLength(5);
    while (gates.length > 0) {
      for (const open of gates.splice(0)) open();
      await t.settle();
    }
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(maxRunning).toBe(2);
    expect(await t.storage.pending('s', 'g', { count: 10 })).toEqual([]);
    await t.stop();
  });

  it('leaves prefetched messages that never started pending on stop', async () => {
    const gates: Array<() => void> = [];
    const router = new Router().on('n', () => new Promise<void>((resolve) => gates.push(resolve)));
    const t = createTestRuntime({
      router,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 1, prefetch: 2, blockMs: 1_000 }],
    });
    await t.start();
    for (let n = 1; n <= 3; n++) await t.storage.add('s', { type: 'n', payload: JSON.stringify({ n }) });
    await t.settle();
    const stopping = t.runtime.stop({ timeoutMs: 1_000 });
    await t.settle();
    for (const open of gates.splice(0)) open();
    await t.settle();
    await stopping;
    expect(gates).toHaveLength(0);
    const pending = await t.storage.pending('s', 'g', { count: 10 });
    expect(pending).toHaveLength(2);
    expect(t.runtime.snapshot().consumers[0]?.processed).toBe(1);
  });

  it('rejects a negative prefetch with a TypeError naming the option', () => {
    expect(() =>
      createTestRuntime({ router: new Router(), consumers: [{ stream: 's', group: 'g', prefetch: -1 }] }),
    ).toThrow(/consumers\[0\]\.prefetch/);
  });
});
