import type { StreamStorage } from '../storage/stream-storage.js';
import { assertCount, describe } from '../storage/validate.js';

/**
 * The consumer option `retention`: trim the consumer's stream periodically, removing only entries
 * that every consumer group of the stream has both delivered and acked (`StreamStorage.trimAcked`).
 * An entry still pending in any group, or not yet delivered to one (a group streamvisor does not run
 * included), is never trimmed; a stream with no group is left alone.
 *
 * @example
 * createRuntime({ router, consumers: [{ stream: 'orders', group: 'billing',
 *   retention: { intervalMs: 60_000, keepMs: 3_600_000 } }] })
 */
export interface RetentionOptions {
  /** How often to trim, ms (integer ≥ 1). @default 60000 */
  intervalMs?: number;
  /** Keep entries younger than this (by id time), acked or not, ms (integer ≥ 0). @default 0 */
  keepMs?: number;
}

/** `retention` with its defaults filled in. */
export interface ResolvedRetention {
  intervalMs: number;
  keepMs: number;
}

/**
 * Resolve `consumers[i].retention` (`at` names it in errors): `null` when absent, else every field
 * checked. Negative, fractional or non-numeric values raise a TypeError that says what to change.
 *
 * @example
 * resolveRetention({ keepMs: 60_000 }, 'consumers[0].retention')   // { intervalMs: 60000, keepMs: 60000 }
 */
export function resolveRetention(value: unknown, at: string): ResolvedRetention | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Expected \`${at}\` to be an object like { intervalMs: 60000, keepMs: 0 }, got ${describe(value)}`,
    );
  }
  const { intervalMs = 60_000, keepMs = 0 } = value as RetentionOptions;
  assertCount(`${at}.intervalMs`, intervalMs, 1);
  assertCount(`${at}.keepMs`, keepMs, 0);
  return { intervalMs, keepMs };
}

/**
 * Refuse `retention` on a storage that cannot trim safely (a custom `StreamStorage` without
 * `trimAcked`), at `createRuntime` rather than on the first interval.
 */
export function assertRetentionSupported(
  consumers: readonly { id: string; retention: ResolvedRetention | null }[],
  storage: Pick<StreamStorage, 'trimAcked'>,
): void {
  const first = consumers.find((consumer) => consumer.retention !== null);
  if (first !== undefined && typeof storage.trimAcked !== 'function') {
    throw new TypeError(
      `Expected a storage with \`trimAcked\` for the \`retention\` of consumer "${first.id}" (RedisStreamStorage and MemoryStreamStorage have it); remove \`retention\` or implement trimAcked`,
    );
  }
}
