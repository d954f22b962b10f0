import { describe } from '../storage/validate.js';

/** Leased partitions: the consumer options that give each partition one owner runtime at a time. */
export interface LeaseOptions {
  /**
   * `'leased'`: each partition of a partitioned consumer (`partitions: N`) has at most one owner
   * runtime at a time, through a lease in the partition's hash slot renewed every `leaseTtlMs / 3`;
   * the live runtimes share the partitions, about N / runtimes each, and take over a dead runtime's
   * partitions once its leases expire. The group consumer that reads a partition is named after it
   * (`partition-<i>`), so its pending entries follow it: a new owner re-processes them first, in id
   * order. With `orderingKey`, per-key order then holds across processes (docs/scaling.md).
   * `consumer` names this runtime (the lease owner). Needs `partitions`. @default none: every
   * runtime reads every partition
   */
  assignment?: 'leased';
  /**
   * How long a lease lasts without renewal, ms (at least 1000). A crashed runtime's partitions move
   * to others within about `leaseTtlMs` plus a third of it. @default 10000
   */
  leaseTtlMs?: number;
}

/** A leased partition's lease, as a resolved consumer carries it. */
export interface ResolvedLease {
  /** The logical stream (`orders`), of which this consumer reads partition `partition`. */
  stream: string;
  partition: number;
  partitions: number;
  ttlMs: number;
  /** This runtime's name: the consumer option `consumer` (or its default). */
  owner: string;
}

/** Shortest lease: a renewal every third of it must fit in a loaded event loop. */
const MIN_LEASE_TTL_MS = 1000;

/**
 * Check `assignment` and `leaseTtlMs` of consumer `index`; resolves the lease's TTL, or `null` when
 * the consumer is not leased. Throws a TypeError (a RangeError for a TTL below 1000) that says what
 * to change.
 *
 * @example
 * resolveLeaseTtl({ assignment: 'leased', partitions: 6 }, 0) // 10000
 */
export function resolveLeaseTtl(
  options: LeaseOptions & { partitions?: number },
  index: number,
): number | null {
  const at = (name: string) => `consumers[${index}].${name}`;
  const { assignment, leaseTtlMs } = options;
  if (assignment === undefined) {
    if (leaseTtlMs !== undefined) {
      throw new TypeError(
        `Expected \`${at('leaseTtlMs')}\` only with \`assignment: 'leased'\`; add \`assignment: 'leased'\` (and \`partitions\`) or remove it`,
      );
    }
    return null;
  }
  if (assignment !== 'leased') {
    throw new TypeError(`Expected \`${at('assignment')}\` to be 'leased', got ${describe(assignment)}`);
  }
  if (options.partitions === undefined) {
    throw new TypeError(
      `Expected \`${at('partitions')}\` with \`assignment: 'leased'\`: leases are per partition; add \`partitions: N\` (and publish with { key, partitions: N })`,
    );
  }
  if (leaseTtlMs === undefined) return 10_000;
  if (typeof leaseTtlMs !== 'number' || !Number.isSafeInteger(leaseTtlMs)) {
    throw new TypeError(
      `Expected \`${at('leaseTtlMs')}\` to be an integer (ms), got ${describe(leaseTtlMs)}`,
    );
  }
  if (leaseTtlMs < MIN_LEASE_TTL_MS) {
    throw new RangeError(
      `Expected \`${at('leaseTtlMs')}\` to be at least ${MIN_LEASE_TTL_MS} ms, got ${leaseTtlMs}`,
    );
  }
  return leaseTtlMs;
}

/** The group consumer that reads leased partition `index`: it belongs to the partition, not a runtime. */
export function partitionReader(index: number): string {
  return `partition-${index}`;
}
