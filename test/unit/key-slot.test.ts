import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { hashTag, keySlot } from '../../src/storage/redis/key-slot.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';

describe('keySlot', () => {
  it('is CRC16/XMODEM modulo 16384, as the Redis Cluster spec gives it', () => {
    // The spec's check value: CRC16 of "123456789" is 0x31C3.
    expect(keySlot('123456789')).toBe(0x31c3 & 16383);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
  });

  it('hashes only the hash tag when there is a non-empty one', () => {
    expect(hashTag('{user1000}.following')).toBe('user1000');
    expect(hashTag('foo{}{bar}')).toBeUndefined();
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('orders')).toBe(keySlot('{orders}:out'));
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
  });
});

describe('sameSlot', () => {
  it('is true for any two keys on one Redis server', async () => {
    const client = new Redis({ lazyConnect: true });
    const storage = new RedisStreamStorage(client);
    expect(storage.sameSlot('foo', 'bar')).toBe(true);
    await storage.close();
    client.disconnect();
  });

  it('the in-memory storage has no slots: it does not implement it', () => {
    expect('sameSlot' in new MemoryStreamStorage()).toBe(false);
  });
});
