import { describe, expect, it } from 'vitest';
import { Router } from '../../src/index.js';
import { resolveConsumers } from '../../src/runtime/runtime-options.js';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { createTestRuntime } from '../../src/testing/index.js';
import { PARTITION_KEY_FIELD } from '../../src/wire/headers.js';
import { fnv1a32, partitionOf, partitionStream, partitionStreams } from '../../src/wire/partitions.js';
import { publish } from '../../src/wire/publish.js';

describe('partition hashing (a wire contract: these values must never change)', () => {
  it('is 32-bit FNV-1a over UTF-8 bytes', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fnv1a32('ü')).toBe(0x119dd44a); // the two bytes C3 BC, not the code point
  });

  it('picks the same partition for the same key and count', () => {
    expect(partitionOf('customer-42', 12)).toBe(10);
    expect(partitionOf('customer-7', 12)).toBe(9); // docs/scaling.md
    expect(partitionOf('order-1', 4)).toBe(fnv1a32('order-1') % 4);
    expect(partitionOf('anything', 1)).toBe(0);
    expect(['a', 'b', 'c', 'd', 'e'].map((key) => partitionOf(key, 12))).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((key) => fnv1a32(key) % 12),
    );
  });

  it('spreads keys evenly enough', () => {
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[partitionOf(`user-${i}`, 12)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('names partitions with a hash tag and rejects names that already have braces', () => {
    expect(partitionStream('orders', 3)).toBe('orders:{3}');
    expect(partitionStreams('orders', 3)).toEqual(['orders:{0}', 'orders:{1}', 'orders:{2}']);
    expect(() => partitionStream('{orders}', 0)).toThrow(TypeError);
    expect(() => partitionStreams('a}b', 2)).toThrow(/hash tag/);
    expect(() => partitionOf('k', 0)).toThrow(TypeError);
    expect(() => partitionOf('k', 1025)).toThrow(/at most 1024/);
    expect(() => partitionOf(7 as unknown as string, 2)).toThrow(TypeError);
  });
});

describe('publish', () => {
  it('writes the wire format to the key’s partition, with the key as a header', async () => {
    const storage = new MemoryStreamStorage();
    const published = await publish(
      storage,
      'orders',
      'order.paid',
      { n: 1 },
      {
        key: 'customer-42',
        partitions: 12,
        headers: { 'x-tenant': 'acme' },
      },
    );
    expect(published).toMatchObject({ stream: 'orders:{10}', partition: 10 });
    expect(await storage.range('orders:{10}')).toEqual([
      {
        id: published.id,
        fields: {
          type: 'order.paid',
          payload: '{"n":1}',
          [PARTITION_KEY_FIELD]: 'customer-42',
          'x-tenant': 'acme',
        },
      },
    ]);
    await storage.close();
  });

  it('writes to the stream itself without partitions, and to a random partition without a key', async () => {
    const storage = new MemoryStreamStorage();
    expect(await publish(storage, 'events', 'e', undefined)).toMatchObject({
      stream: 'events',
      partition: null,
    });
    expect(await storage.range('events')).toMatchObject([{ fields: { type: 'e' } }]);
    const random = await publish(storage, 'orders', 'e', 1, { partitions: 4, random: () => 0.99 });
    expect(random).toMatchObject({ stream: 'orders:{3}', partition: 3 });
    await storage.close();
  });

  it('rejects bad arguments with a TypeError', async () => {
    const storage = new MemoryStreamStorage();
    await expect(publish(storage, 'orders', '', {})).rejects.toThrow(TypeError);
    await expect(publish(storage, 'orders', 't', {}, { headers: { type: 'x' } })).rejects.toThrow(/"type"/);
    await expect(publish(storage, 'orders', 't', () => 1)).rejects.toThrow(/JSON/);
    await expect(publish(storage, '{orders}', 't', {}, { key: 'k', partitions: 2 })).rejects.toThrow(
      /hash tag/,
    );
    await expect(publish(storage, 'orders', 't', {}, { key: 'k', partitions: 0 })).rejects.toThrow(TypeError);
    await storage.close();
  });
});

describe('resolveConsumers with partitions', () => {
  it('expands one entry into one consumer per partition sharing one consumer name', () => {
    const resolved = resolveConsumers(
      { stream: 'orders', group: 'billing', consumer: 'pod-1', partitions: 3 },
      0,
    );
    expect(resolved.map((c) => [c.id, c.stream, c.consumer, c.deadLetter.stream])).toEqual([
      ['orders:{0}/billing/pod-1', 'orders:{0}', 'pod-1', 'orders:{0}:dead'],
      ['orders:{1}/billing/pod-1', 'orders:{1}', 'pod-1', 'orders:{1}:dead'],
      ['orders:{2}/billing/pod-1', 'orders:{2}', 'pod-1', 'orders:{2}:dead'],
    ]);
  });

  it('shares a generated consumer name, suffixes a given id, and keeps one consumer without partitions', () => {
    const generated = resolveConsumers({ stream: 'orders', group: 'g', partitions: 2 }, 0);
    expect(generated[0]?.consumer).toBe(generated[1]?.consumer);
    const withId = resolveConsumers({ stream: 'orders', group: 'g', id: 'orders', partitions: 2 }, 0);
    expect(withId.map((c) => c.id)).toEqual(['orders:{0}', 'orders:{1}']);
    expect(resolveConsumers({ stream: 'orders', group: 'g', consumer: 'c' }, 0).map((c) => c.id)).toEqual([
      'orders/g/c',
    ]);
  });

  it('rejects bad partitions, partitioned names with braces, and bad staleConsumerMs', () => {
    expect(() => resolveConsumers({ stream: 'o', group: 'g', partitions: 0 }, 2)).toThrow(
      'consumers[2].partitions',
    );
    expect(() => resolveConsumers({ stream: 'o', group: 'g', partitions: 1.5 }, 0)).toThrow(TypeError);
    expect(() => resolveConsumers({ stream: 'o:{x}', group: 'g', partitions: 2 }, 0)).toThrow(/hash tag/);
    expect(() => resolveConsumers({ stream: 'o', group: 'g', staleConsumerMs: 0 }, 0)).toThrow(
      'consumers[0].staleConsumerMs',
    );
    expect(
      resolveConsumers({ stream: 'o', group: 'g', staleConsumerMs: false }, 0)[0]?.staleConsumerMs,
    ).toBeNull();
    expect(resolveConsumers({ stream: 'o', group: 'g' }, 0)[0]?.staleConsumerMs).toBe(3_600_000);
  });
});

describe('a runtime with partitions: 4 on MemoryStreamStorage', () => {
  it('runs one consumer per partition; messages published by key land in one partition and keep their order', async () => {
    const seen: { stream: string; key: string; seq: number }[] = [];
    const t = createTestRuntime({
      router: new Router().on('step', async (message) => {
        const { key, seq } = message.payload as { key: string; seq: number };
        // Handlers take different times, so without ordering later steps would overtake earlier ones.
        await new Promise((resolve) => t.clock.setTimeout(resolve, ((seq * 7) % 5) * 10));
        seen.push({ stream: message.stream, key, seq });
      }),
      consumers: [
        {
          stream: 'orders',
          group: 'billing',
          consumer: 'c1',
          partitions: 4,
          concurrency: 4,
          orderingKey: (message) => message.fields[PARTITION_KEY_FIELD],
        },
      ],
    });
    await t.start();
    const snapshot = t.runtime.snapshot();
    expect(snapshot.consumers.map((c) => [c.id, c.stream, c.consumer])).toEqual(
      [0, 1, 2, 3].map((i) => [`orders:{${i}}/billing/c1`, `orders:{${i}}`, 'c1']),
    );
    expect(snapshot.consumers.every((c) => c.state === 'polling')).toBe(true);

    const keys = Array.from({ length: 10 }, (_, i) => `customer-${i}`);
    for (let seq = 0; seq < 5; seq++) {
      for (const key of keys)
        await publish(t.storage, 'orders', 'step', { key, seq }, { key, partitions: 4 });
    }
    await t.waitFor(() => seen.length === 50, { maxMs: 10_000 });

    const used = new Set<string>();
    for (const key of keys) {
      const mine = seen.filter((s) => s.key === key);
      expect(mine.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(new Set(mine.map((s) => s.stream))).toEqual(
        new Set([partitionStream('orders', partitionOf(key, 4))]),
      );
      used.add(mine[0]?.stream ?? '');
    }
    expect(used.size).toBeGreaterThan(1);
    const processed = t.runtime.snapshot().consumers.reduce((sum, c) => sum + c.processed, 0);
    expect(processed).toBe(50);
    for (const stream of partitionStreams('orders', 4)) {
      expect(await t.storage.pending(stream, 'billing', { count: 10 })).toEqual([]);
    }
    await t.stop();
  });
});
