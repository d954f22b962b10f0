import { assertCount, assertName, describe } from '../storage/validate.js';

// Naming and choosing the partitions of a logical stream. Both are part of the wire contract:
// producers and consumers in different processes and versions must agree on them forever.

/** Most partitions of one logical stream (the tags `{0}` … `{1023}`). */
const MAX_PARTITIONS = 1024;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/**
 * 32-bit FNV-1a of the key's UTF-8 bytes (offset basis 2166136261, prime 16777619), unsigned.
 * A contract: the same key hashes the same in every version of streamvisor.
 *
 * @example
 * fnv1a32('') // 2166136261
 * fnv1a32('a') // 3826002220
 */
export function fnv1a32(key: string): number {
  let hash = FNV_OFFSET;
  for (const byte of encoder.encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * The partition (0 … partitions − 1) of a key: `fnv1a32(key) % partitions`. The same key always picks
 * the same partition for the same number of partitions, so messages with one key stay in order.
 * Changing the number of partitions moves most keys.
 *
 * @throws TypeError when `key` is not a string or `partitions` not an integer in 1 … 1024.
 * @example
 * partitionOf('customer-42', 12) // 10, in every process and version
 */
export function partitionOf(key: string, partitions: number): number {
  if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be a string, got ${describe(key)}`);
  assertPartitions('partitions', partitions);
  return fnv1a32(key) % partitions;
}

/**
 * The physical stream of partition `index` of the logical stream `stream`: `${stream}:{${index}}`.
 * The hash tag `{index}` decides the Redis Cluster slot, so partitions spread over the shards, and keys
 * derived by suffixing (`orders:{3}:dead`, `orders:{3}:retry`) share their partition's slot.
 *
 * @throws TypeError when `stream` is empty or has a `{` or `}` (a hash tag of its own would put every
 *   partition in one slot), or `index` is not an integer ≥ 0.
 * @example
 * partitionStream('orders', 3) // 'orders:{3}'
 */
export function partitionStream(stream: string, index: number): string {
  assertPartitionable('stream', stream);
  assertCount('index', index, 0);
  return `${stream}:{${index}}`;
}

/**
 * Every physical stream of a logical stream with `partitions` partitions, in partition order.
 *
 * @example
 * partitionStreams('orders', 3) // ['orders:{0}', 'orders:{1}', 'orders:{2}']
 */
export function partitionStreams(stream: string, partitions: number): string[] {
  assertPartitionable('stream', stream);
  assertPartitions('partitions', partitions);
  return Array.from({ length: partitions }, (_, index) => `${stream}:{${index}}`);
}

/** Throws a TypeError unless `value` is an integer in 1 … MAX_PARTITIONS. */
export function assertPartitions(what: string, value: unknown): asserts value is number {
  assertCount(what, value, 1);
  if (value > MAX_PARTITIONS) {
    throw new TypeError(`Expected \`${what}\` to be at most ${MAX_PARTITIONS}, got ${value}`);
  }
}

/** Throws a TypeError unless `stream` can be partitioned: a non-empty name without `{` or `}`. */
export function assertPartitionable(what: string, stream: unknown): asserts stream is string {
  assertName(what, stream);
  if (stream.includes('{') || stream.includes('}')) {
    throw new TypeError(
      `Expected \`${what}\` to have no "{" "}" hash tag when it is partitioned (partitions are named "${stream}:{0}", … and each tag picks a Redis Cluster slot), got "${stream}"`,
    );
  }
}
