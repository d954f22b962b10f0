// Shared set-up of the retry unit tests: a runtime on MemoryStreamStorage driven by a SimulatedClock.
import { type Logger, pino } from 'pino';
import { SimulatedClock } from 'xstate';
import type { RuntimeEvent } from '../../src/actors/runtime-events.js';
import type { DeadLetterWrite } from '../../src/index.js';
import { type ConsumerOptions, createRuntime, Router, type Runtime } from '../../src/index.js';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import type { RetryScheduler } from '../../src/storage/retry-scheduler.js';
import type { RangeEntry } from '../../src/storage/stream-storage.js';
import { trackRuntime } from '../helpers/leak-guard.js';

export const T0 = 1_700_000_000_000;

/** Memory storage (on a simulated clock at T0) whose first `failures` dead-letter writes fail. */
export class FlakyDeadLetters extends MemoryStreamStorage {
  failures = 1;
  override deadLetter(write: DeadLetterWrite): Promise<string> {
    if (this.failures-- > 0) return Promise.reject(new Error('dead-letter stream unavailable'));
    return super.deadLetter(write);
  }
}

/** A simulated clock set to T0 and `make`'s storage on it. */
export function storageAtT0<S extends MemoryStreamStorage>(
  make: (clock: SimulatedClock) => S,
): { clock: SimulatedClock; storage: S } {
  const clock = new SimulatedClock();
  clock.set(T0);
  return { clock, storage: make(clock) };
}

export interface Harness {
  clock: SimulatedClock;
  storage: MemoryStreamStorage;
  router: Router;
  runtime: Runtime;
  events: RuntimeEvent[];
  stream: string;
  group: string;
  /** Let promises, immediates and the ack batcher settle (no clock movement). */
  flush(): Promise<void>;
  /** Move the simulated clock by `ms` in steps of at most `step`, flushing after each. */
  advance(ms: number, step?: number): Promise<void>;
  add(fields: Record<string, string>): Promise<string>;
  /** Entries of the dead-letter stream. */
  dead(): Promise<RangeEntry[]>;
  pendingIds(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  consumer?: Partial<ConsumerOptions>;
  retryScheduler?: (storage: MemoryStreamStorage, clock: SimulatedClock) => RetryScheduler;
  storage?: MemoryStreamStorage;
  clock?: SimulatedClock;
  logger?: Logger;
}

export async function flushAll(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Poll `done` every 5 ms of real time until it holds; throws after `ms` (a stuck runtime fails, not hangs). */
export async function waitUntil(done: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`Condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A handler that records the id of every message it starts and holds it until `finish()`, which
 * settles the last one started.
 */
export function heldHandler(): {
  started: string[];
  finish: () => void;
  handler: (message: { id: string }) => Promise<void>;
} {
  const started: string[] = [];
  let settle: () => void = () => {};
  return {
    started,
    finish: () => settle(),
    handler: (message) => {
      started.push(message.id);
      return new Promise<void>((resolve) => (settle = resolve));
    },
  };
}

/** A pino logger at `debug` whose records land in `records` (parsed). */
export function memoryLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, records };
}

/** Start a runtime on one stream `s` with group `g`, reading from the beginning. */
export async function startHarness(
  setup: (router: Router) => void,
  options: HarnessOptions = {},
): Promise<Harness> {
  const clock =
    options.clock ??
    (() => {
      const c = new SimulatedClock();
      c.set(T0);
      return c;
    })();
  const storage = options.storage ?? new MemoryStreamStorage({ clock });
  const router = new Router();
  setup(router);
  const stream = 's';
  const group = 'g';
  const runtime = trackRuntime(
    createRuntime({
      storage,
      clock,
      random: () => 0.5,
      router,
      logger: options.logger ?? pino({ level: 'silent' }),
      closeStorage: false,
      ...(options.retryScheduler ? { retryScheduler: options.retryScheduler(storage, clock) } : {}),
      consumers: [
        {
          stream,
          group,
          consumer: 'c1',
          startId: '0',
          blockMs: 1000,
          concurrency: 4,
          ...options.consumer,
        },
      ],
    }),
  );
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  const started = runtime.start();
  await flushAll();
  await started;
  const harness: Harness = {
    clock,
    storage,
    router,
    runtime,
    events,
    stream,
    group,
    flush: () => flushAll(),
    async advance(ms, step = 1) {
      let left = ms;
      while (left > 0) {
        const by = Math.min(step, left);
        clock.increment(by);
        left -= by;
        await flushAll(3);
      }
      await flushAll();
    },
    async add(fields) {
      const id = await storage.add(stream, fields);
      await flushAll();
      return id;
    },
    dead: () => storage.range(`${stream}:dead`),
    pendingIds: async () => (await storage.pending(stream, group, { count: 1000 })).map((p) => p.id),
    async stop() {
      const stopping = runtime.stop({ timeoutMs: 100 });
      for (let i = 0; i < 50 && runtime.status !== 'stopped'; i++) {
        clock.increment(100);
        await flushAll(3);
      }
      await stopping;
    },
  };
  return harness;
}
