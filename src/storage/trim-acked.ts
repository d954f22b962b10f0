import { assertCount, assertName } from './validate.js';

/** Options of `StreamStorage.trimAcked`. */
export interface TrimAckedOptions {
  /**
   * Keep entries whose id time is within the last `keepMs` milliseconds (id ms ≥ now − keepMs), even
   * when every group has acked them (integer ≥ 0). @default none: trim everything acked
   */
  keepMs?: number;
  /**
   * "Now" for `keepMs`, ms since epoch (integer ≥ 0). @default the time of the server that generates
   * the ids (Redis' `TIME`; the clock of `MemoryStreamStorage`)
   */
  now?: number;
}

/**
 * Check `trimAcked`'s arguments the same way in both storages: a TypeError that names the argument.
 *
 * @example
 * assertTrimAcked('orders', { keepMs: 60_000 })
 */
export function assertTrimAcked(stream: unknown, options: unknown): asserts options is TrimAckedOptions {
  assertName('stream', stream);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const { keepMs, now } = options as Record<string, unknown>;
  if (keepMs !== undefined) assertCount('keepMs', keepMs, 0);
  if (now !== undefined) assertCount('now', now, 0);
}
