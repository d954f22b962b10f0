import type {
  ConsumerInfo,
  DeleteIdleConsumersOptions,
  GroupInfo,
  PendingEntry,
  PendingOptions,
} from '../stream-storage.js';
import { assertCount, assertName, assertOptions, assertPendingOptions } from '../validate.js';
import type { MemoryKeyspace } from './memory-keyspace.js';
import { parseBound } from './memory-stream-id.js';

// MemoryStreamStorage's group inspection commands: XPENDING, XINFO GROUPS and CONSUMERS, XGROUP
// DELCONSUMER. Arguments are checked in the order RedisStreamStorage checks them.

/** XPENDING, extended form. */
export function pending(
  keys: MemoryKeyspace,
  stream: string,
  group: string,
  options: PendingOptions,
): PendingEntry[] {
  const { start: startText, end: endText, minIdleMs } = assertPendingOptions(stream, group, options);
  const start = parseBound('XPENDING', startText, 'start');
  const end = parseBound('XPENDING', endText, 'end');
  const { found } = keys.group(stream, group);
  const now = keys.now();
  return found.pending(start, end, options.count, minIdleMs, options.consumer, now).map((item) => ({
    id: item.id,
    consumer: item.consumer.name,
    idleMs: Math.max(0, now - item.deliveryTime),
    deliveries: item.deliveryCount,
  }));
}

/** XINFO GROUPS; a missing stream has none. */
export function groups(keys: MemoryKeyspace, stream: string): GroupInfo[] {
  assertName('stream', stream);
  const target = keys.stream(stream);
  return target === undefined ? [] : keys.groupInfos(target);
}

/** XINFO CONSUMERS. */
export function consumers(keys: MemoryKeyspace, stream: string, group: string): ConsumerInfo[] {
  assertName('stream', stream);
  assertName('group', group);
  return keys.consumerInfos(keys.group(stream, group).found);
}

/** XGROUP DELCONSUMER; resolves the consumer's pending count. */
export function deleteConsumer(
  keys: MemoryKeyspace,
  stream: string,
  group: string,
  consumer: string,
): number {
  assertName('stream', stream);
  assertName('group', group);
  assertName('consumer', consumer);
  return keys.group(stream, group).found.deleteConsumer(consumer);
}

/** The idle consumers with nothing pending, removed: the Redis storage's script, in its order. */
export function deleteIdleConsumers(
  keys: MemoryKeyspace,
  stream: string,
  group: string,
  options: DeleteIdleConsumersOptions,
): string[] {
  assertName('stream', stream);
  assertName('group', group);
  assertOptions(options);
  assertCount('minIdleMs', options.minIdleMs, 0);
  if (options.keep !== undefined) assertName('keep', options.keep);
  const { found } = keys.group(stream, group);
  const idle = keys
    .consumerInfos(found)
    .filter((info) => info.name !== options.keep && info.pending === 0 && info.idleMs >= options.minIdleMs);
  for (const info of idle) found.deleteConsumer(info.name);
  return idle.map((info) => info.name);
}
