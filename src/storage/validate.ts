import type { PendingOptions, StreamFields } from './stream-storage.js';

// Argument checks shared by both storages, so both reject exactly the same inputs with the same words.

const STREAM_ID = /^\d+-\d+$/;

export function assertName(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`Expected \`${what}\` to be a non-empty string, got ${describe(value)}`);
  }
}

export function assertCount(what: string, value: unknown, min = 1): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`Expected \`${what}\` to be an integer ≥ ${min}, got ${describe(value)}`);
  }
}

/** A full id `<ms>-<seq>`. */
export function assertId(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !STREAM_ID.test(value)) {
    throw new TypeError(
      `Expected \`${what}\` to be a stream id like "1700000000000-0", got ${describe(value)}`,
    );
  }
}

export function assertIds(what: string, values: unknown): asserts values is readonly string[] {
  if (!Array.isArray(values))
    throw new TypeError(`Expected \`${what}\` to be an array of stream ids, got ${describe(values)}`);
  for (const id of values) assertId(`${what}[]`, id);
}

/** A range bound: `-`, `+`, `<ms>`, `<ms>-<seq>`, optionally prefixed by `(` for exclusive. */
export function assertRangeBound(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !/^(-|\+|\(?\d+(-\d+)?)$/.test(value)) {
    throw new TypeError(
      `Expected \`${what}\` to be "-", "+" or a stream id (optionally prefixed by "("), got ${describe(value)}`,
    );
  }
}

/** `$`, `0` or a full id. */
export function assertStartId(value: unknown): asserts value is string {
  if (value !== '$' && value !== '0' && !(typeof value === 'string' && STREAM_ID.test(value))) {
    throw new TypeError(
      `Expected \`startId\` to be "$", "0" or a stream id like "1700000000000-0", got ${describe(value)}`,
    );
  }
}

export function assertFields(value: unknown): asserts value is StreamFields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected \`fields\` to be an object of string values, got ${describe(value)}`);
  }
  const keys = Object.keys(value);
  if (keys.length === 0) throw new TypeError('Expected `fields` to have at least one field, got {}');
  for (const key of keys) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field !== 'string') {
      throw new TypeError(
        `Expected field \`${key}\` to be a string, got ${describe(field)}; JSON.stringify objects into \`payload\``,
      );
    }
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Compare two full stream ids numerically. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** Throws a TypeError unless `value` is an object. */
export function assertOptions(value: unknown, what = 'options'): void {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `Expected \`${what}\` to be an object, got ${value === null ? 'null' : typeof value}`,
    );
  }
}

/**
 * Checks XPENDING's arguments, in the order both storages report them, and resolves the range:
 * `start` and `end` default to `-` and `+`, `minIdleMs` to 0.
 */
export function assertPendingOptions(
  stream: unknown,
  group: unknown,
  options: PendingOptions,
): { start: string; end: string; minIdleMs: number } {
  assertName('stream', stream);
  assertName('group', group);
  assertOptions(options);
  assertCount('count', options.count);
  const start = options.start ?? '-';
  const end = options.end ?? '+';
  assertRangeBound('start', start);
  assertRangeBound('end', end);
  if (options.consumer !== undefined) assertName('consumer', options.consumer);
  const minIdleMs = options.minIdleMs ?? 0;
  assertCount('minIdleMs', minIdleMs, 0);
  return { start, end, minIdleMs };
}

/** Argument checks every LeaseStore runs before it touches anything (see lease-store.ts). */
export function assertLease(key: unknown, owner: unknown, ttlMs?: unknown): void {
  assertName('key', key);
  assertName('owner', owner);
  if (ttlMs !== undefined) assertCount('ttlMs', ttlMs, 1);
}
