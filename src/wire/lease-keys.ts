import { assertName } from '../storage/validate.js';
import { partitionStream } from './partitions.js';

// Where leased partitions keep their leases and members (`assignment: 'leased'`). Part of the wire
// contract: every runtime of a group, and `streamvisor status`, must agree on these names.

/**
 * The lease key of partition `index` of `stream` for `group`: `${stream}:{${index}}:lease:${group}`,
 * in the partition's hash slot (its `{index}` tag), like its stream and dead letters. Its value is the
 * owner's token (`<runtime name>/<random>`), with a TTL.
 *
 * @example
 * leaseKey('orders', 'billing', 3) // 'orders:{3}:lease:billing'
 */
export function leaseKey(stream: string, group: string, index: number): string {
  assertName('group', group);
  return `${partitionStream(stream, index)}:lease:${group}`;
}

/**
 * The lease key of a partition's physical stream (`orders:{3}`) for `group`; `null` when `stream` is
 * not a partition (no `:{<index>}` suffix).
 *
 * @example
 * partitionLeaseKey('orders:{3}', 'billing') // 'orders:{3}:lease:billing'
 */
export function partitionLeaseKey(stream: string, group: string): string | null {
  assertName('group', group);
  if (!/:\{\d+\}$/.test(stream)) return null;
  return `${stream}:lease:${group}`;
}

/**
 * The sorted set of runtimes sharing `stream`'s partitions in `group`: `${stream}:lease-members:${group}`,
 * each member scored by when it expires unless announced again.
 *
 * @example
 * membersKey('orders', 'billing') // 'orders:lease-members:billing'
 */
export function membersKey(stream: string, group: string): string {
  assertName('stream', stream);
  assertName('group', group);
  return `${stream}:lease-members:${group}`;
}
