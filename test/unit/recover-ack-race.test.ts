import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import type { AutoClaimOptions, ClaimResult } from '../../src/storage/stream-storage.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, storageAtT0 } from './retry-support.js';

// A claim returns a message this consumer is still running (it is idle, and pending until its XACK
// lands). If the claim's reply is read only after that message finished and its XACK was confirmed,
// the message is neither held nor acking any more when the reply is looked at. It was ours when the
// claim was sent, so running it again would be a duplicate: this reproduces that order on the memory
// storage and checks the handler runs once.

/**
 * Memory storage whose XAUTOCLAIM reply is held back until `beforeReply` resolves, and whose idle-time
 * resets do nothing (as when a loaded event loop runs the ownership timer late), so a message still
 * running goes idle and a claim returns it.
 */
class SlowClaimReply extends MemoryStreamStorage {
  beforeReply: ((page: ClaimResult) => Promise<void>) | null = null;

  override async touch(): Promise<string[]> {
    return [];
  }

  override async autoClaim(
    stream: string,
    group: string,
    consumer: string,
    options: AutoClaimOptions,
  ): Promise<ClaimResult> {
    const page = await super.autoClaim(stream, group, consumer, options);
    if (this.beforeReply !== null) await this.beforeReply(page);
    return page;
  }
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

const realTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('a claim whose reply comes after the claimed message was acked', () => {
  it('does not run the message again', async () => {
    const { clock, storage } = storageAtT0((c) => new SlowClaimReply({ clock: c }));
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    h = await startHarness(
      (router) =>
        router.on('t', async () => {
          calls++;
          if (calls === 1) await gate;
        }),
      { clock, storage, consumer: { blockMs: 50, claim: { minIdleMs: 100, intervalMs: 200 } } },
    );
    const id = await h.add({ type: 't', payload: '{}' });
    expect(calls).toBe(1);
    let raced = false;
    storage.beforeReply = async (page) => {
      if (raced || !page.entries.some((entry) => entry.id === id)) return;
      raced = true;
      // The claimed message finishes and its XACK is confirmed before the claim's reply is read.
      open();
      for (let i = 0; i < 200; i++) {
        const pending = await MemoryStreamStorage.prototype.pending.call(storage, 's', 'g', { count: 10 });
        if (!pending.some((p) => p.id === id)) return;
        await realTurn();
      }
      throw new Error('the claimed message was never acked');
    };
    for (let i = 0; i < 20 && !raced; i++) await h.advance(50, 50);
    await h.advance(500, 50);
    expect(raced).toBe(true);
    expect(calls).toBe(1);
    expect(await h.pendingIds()).toEqual([]);
  });
});
