import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReadSize } from '../../src/actors/consumer/read-size.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness } from './retry-support.js';

// The adaptive read size (read-size.ts) learns how long one message's handlers take. A batch handler
// runs many messages in one call: its call must count as that time per message, or fast batch
// handlers look slow, the consumer stops reading ahead and its batches wait for small reads.

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

/** Keeps the event loop busy for `ms` of wall-clock (the handler time the pool measures is real time). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('router.batch and the adaptive read size', () => {
  it('reports a batch call as its time per message, so a fast batch handler gets read-ahead', async () => {
    const samples: number[] = [];
    let size: ReadSize | undefined;
    const handled = ReadSize.prototype.handled;
    vi.spyOn(ReadSize.prototype, 'handled').mockImplementation(function (this: ReadSize, ms: number) {
      samples.push(ms);
      size = this;
      handled.call(this, ms);
    });
    let calls = 0;
    h = await startHarness((router) =>
      router.batch(
        'm',
        (messages) => {
          calls++;
          expect(messages).toHaveLength(10);
          busy(40); // 4 ms per message
        },
        { size: 10, waitMs: 50 },
      ),
    );
    for (let i = 0; i < 10; i++) await h.storage.add(h.stream, { type: 'm', payload: `{"i":${i}}` });
    await h.flush();
    expect(calls).toBe(1);
    expect(await h.pendingIds()).toEqual([]);
    // One sample for the call: 40 ms over 10 messages (generous upper bound for a loaded machine).
    expect(samples).toHaveLength(1);
    expect(samples[0]).toBeGreaterThanOrEqual(4);
    expect(samples[0]).toBeLessThan(20);
    // With reads of 25 ms, 4 ms per message is fast: the consumer reads ahead (it would not at 40 ms).
    size?.read(25);
    expect(size?.readAhead).toBeGreaterThan(0);
  });
});
