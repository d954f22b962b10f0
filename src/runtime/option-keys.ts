import type { ConsumerOptions } from '../actors/consumer-options.js';
import type { RuntimeOptions, SupervisorOptions } from './runtime-options.js';

// JavaScript callers get no type check: a typo such as `concurency: 16` would silently do nothing.
// Every option object is checked against the keys its TypeScript type declares. The key lists are
// `Record<keyof T, true>` literals, so adding an option to a type without listing it here (or listing
// one the type does not have) is a compile error.

type Retry = NonNullable<ConsumerOptions['retry']>;
type Scheduled = NonNullable<Retry['scheduled']>;
type Backoff = NonNullable<Retry['backoff']>;
type Claim = NonNullable<ConsumerOptions['claim']>;
type Retention = NonNullable<ConsumerOptions['retention']>;
type DeadLetter = NonNullable<ConsumerOptions['deadLetter']>;
type SupervisorBackoff = NonNullable<SupervisorOptions['backoff']>;

/** The keys of one option object, and the shapes of its nested option objects. */
interface Shape {
  readonly keys: readonly string[];
  readonly nested?: Readonly<Record<string, Shape | ((value: unknown) => readonly [string, unknown][])>>;
}

function keysOf<T>(keys: Record<keyof T, true>): readonly string[] {
  return Object.keys(keys);
}

const BACKOFF: Shape = { keys: keysOf<Backoff>({ initialMs: true, maxMs: true }) };

const CONSUMER: Shape = {
  keys: keysOf<ConsumerOptions>({
    stream: true,
    group: true,
    consumer: true,
    id: true,
    partitions: true,
    assignment: true,
    leaseTtlMs: true,
    staleConsumerMs: true,
    count: true,
    prefetch: true,
    concurrency: true,
    blockMs: true,
    startId: true,
    claim: true,
    retry: true,
    deadLetter: true,
    orderingKey: true,
    maxPayloadBytes: true,
    unrouted: true,
    handlerTimeoutMs: true,
    retention: true,
  }),
  nested: {
    claim: { keys: keysOf<Claim>({ minIdleMs: true, intervalMs: true }) },
    retry: {
      keys: keysOf<Retry>({ attempts: true, backoff: true, scheduled: true }),
      nested: {
        backoff: BACKOFF,
        scheduled: {
          keys: keysOf<Scheduled>({ attempts: true, backoff: true }),
          nested: { backoff: BACKOFF },
        },
      },
    },
    deadLetter: { keys: keysOf<DeadLetter>({ stream: true, maxDeliveries: true, maxLen: true }) },
    retention: { keys: keysOf<Retention>({ intervalMs: true, keepMs: true }) },
  },
};

const RUNTIME: Shape = {
  keys: keysOf<RuntimeOptions>({
    storage: true,
    router: true,
    container: true,
    consumers: true,
    supervisor: true,
    logger: true,
    clock: true,
    inspect: true,
    onFatal: true,
    retryScheduler: true,
    closeStorage: true,
    random: true,
    telemetry: true,
  }),
  nested: {
    consumers: (value) => (Array.isArray(value) ? value.map((item, i) => [`[${i}]`, item] as const) : []),
    supervisor: {
      keys: keysOf<SupervisorOptions>({
        maxRestarts: true,
        periodMs: true,
        backoff: true,
        resetAfterMs: true,
      }),
      nested: {
        backoff: { keys: keysOf<SupervisorBackoff>({ minMs: true, maxMs: true, randomFactor: true }) },
      },
    },
  },
};

/** The Python design's names (`RedisStreamProcessor` arguments) that differ in more than spelling. */
const PYTHON_NAMES: Readonly<Record<string, string>> = {
  batch_count: 'count',
  poll_interval: 'blockMs',
  stream_name: 'stream',
  group_name: 'group',
  consumer_group_name: 'group',
  consumer_name: 'consumer',
};

/**
 * Throws a `TypeError` naming the first key of `options` that `createRuntime` does not know, at the
 * top level, in each consumer, and in `retry`, `claim`, `deadLetter`, `retention`, `supervisor` and their
 * `backoff`s, with the closest valid key when one is close. Values are not checked here.
 *
 * @example
 * assertKnownOptions({ router, consumers: [{ stream: 's', group: 'g', concurency: 16 }] })
 * // TypeError: Unknown option `consumers[0].concurency`; did you mean `concurrency`?
 */
export function assertKnownOptions(options: object): void {
  check('', options, RUNTIME);
}

function check(path: string, value: unknown, shape: Shape): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return; // the value checks report it
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (!shape.keys.includes(key)) throw new TypeError(unknownKeyMessage(at, key, shape.keys));
    const nested = shape.nested?.[key];
    const child = (value as Record<string, unknown>)[key];
    if (typeof nested === 'function') {
      for (const [suffix, item] of nested(child)) check(`${at}${suffix}`, item, CONSUMER);
    } else if (nested !== undefined) {
      check(at, child, nested);
    }
  }
}

function unknownKeyMessage(at: string, key: string, valid: readonly string[]): string {
  const closest = closestKey(key, valid);
  return closest === undefined
    ? `Unknown option \`${at}\`; expected one of ${valid.map((k) => `\`${k}\``).join(', ')}`
    : `Unknown option \`${at}\`; did you mean \`${closest}\`?`;
}

/**
 * The valid key closest to `key`: a Python name's counterpart, else the one at the smallest edit
 * distance (case and `_` ignored, a swap of two letters counting one), if within a third of its length.
 *
 * @example
 * closestKey('concurency', ['count', 'concurrency']) // 'concurrency'
 */
export function closestKey(key: string, valid: readonly string[]): string | undefined {
  const python = PYTHON_NAMES[key];
  if (python !== undefined && valid.includes(python)) return python;
  const wanted = normalize(key);
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(wanted.length / 3)) + 1;
  for (const candidate of valid) {
    const distance = editDistance(wanted, normalize(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function normalize(key: string): string {
  return key.toLowerCase().replaceAll('_', '').replaceAll('-', '');
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  // rows[i][j]: the distance between a's first i and b's first j characters, filled row by row.
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  const cell = (i: number, j: number): number => {
    const d = rows[i]?.[j];
    if (d === undefined) throw new Error(`editDistance read cell [${i}][${j}] before filling it`);
    return d;
  };
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    rows.push(row);
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(cell(i - 1, j) + 1, cell(i, j - 1) + 1, cell(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, cell(i - 2, j - 2) + 1);
      row.push(d);
    }
  }
  return cell(a.length, b.length);
}
