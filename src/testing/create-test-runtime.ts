import { pino } from 'pino';
import type { InspectedSnapshotEvent, InspectionEvent } from 'xstate';
import {
  createRuntime,
  MemoryStreamStorage,
  type Runtime,
  type RuntimeEvent,
  type RuntimeOptions,
  type StreamFields,
  type StreamStorage,
} from '../index.js';
import { DEFAULT_EPOCH_MS, TestClock } from './test-clock.js';
import { type SettleOptions, TimeDriver, type WaitOptions } from './time-driver.js';

/**
 * Options of `createTestRuntime`: those of `createRuntime` but `storage` and `clock` (the kit makes
 * both), with test defaults: `random` is `() => 0.5` (deterministic jitter), `logger` a silent pino,
 * and `closeStorage: false` (so a test can inspect the streams after `stop()`).
 */
export interface TestRuntimeOptions<C = unknown> extends Omit<RuntimeOptions<C>, 'storage' | 'clock'> {
  /** Where simulated time starts, ms since the Unix epoch. @default 1700000000000 */
  epochMs?: number;
}

/** A runtime on `MemoryStreamStorage` and a simulated clock, with the means to move time. */
export interface TestRuntime<C = unknown> {
  readonly runtime: Runtime<C>;
  /** The in-memory storage the runtime uses, on the same clock. */
  readonly storage: MemoryStreamStorage;
  readonly clock: TestClock;
  /** Every lifecycle event the runtime reported, in order. */
  readonly events: readonly RuntimeEvent[];
  /** `runtime.start()`, moving simulated time until it resolves (up to `maxMs`). */
  start(options?: WaitOptions): Promise<void>;
  /** `runtime.stop({ timeoutMs })`, moving simulated time until it resolves. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Add a message (`type`, `payload` as JSON, headers as fields) and settle. Resolves its id.
   */
  publish(stream: string, type: string, payload?: unknown, headers?: StreamFields): Promise<string>;
  /** Move simulated time by `ms`, firing timers in order and settling between them. */
  advance(ms: number): Promise<void>;
  /** Flush promises, immediates and due timers until quiet, without moving time. */
  settle(options?: SettleOptions): Promise<void>;
  /**
   * Move time until the consumer is in `state` (a machine state, or `restarting`), or has passed
   * through it since the call. Throws with the states it saw otherwise.
   */
  waitForState(consumerId: string, state: string, options?: WaitOptions): Promise<void>;
  /** Move time until `predicate()` holds; throws after `maxMs` of simulated time. */
  waitFor(predicate: () => boolean, options?: WaitOptions): Promise<void>;
  /** Move time until `promise` settles; resolves or rejects with it. */
  drive<T>(promise: Promise<T>, options?: WaitOptions): Promise<T>;
  /** The machine states the consumer went through since the runtime started, in order. */
  statesOf(consumerId: string): readonly string[];
  /** The consumer's state in `runtime.snapshot()` now. */
  stateOf(consumerId: string): string;
}

/**
 * Create a deterministic runtime for tests: `createRuntime` on a `MemoryStreamStorage`, both on one
 * `TestClock` (XState's `SimulatedClock`), jitter fixed by `random: () => 0.5`, a silent logger.
 * Nothing moves until the test says so: `advance(ms)` moves time deadline by deadline, `settle()` lets
 * promises and the ack batcher run, `waitForState()` moves time until a consumer reaches a state.
 *
 * @example
 * import { createTestRuntime } from 'streamvisor/testing'
 * const handled: unknown[] = []
 * const router = new Router().on('user.joined', async (message) => { handled.push(message.payload) })
 * const t = createTestRuntime({ router, consumers: [{ stream: 'events', group: 'bot', consumer: 'c1' }] })
 * await t.start()
 * await t.publish('events', 'user.joined', { id: 1 })
 * expect(handled).toEqual([{ id: 1 }])
 * await t.storage.destroyGroup('events', 'bot')
 * await t.waitForState('events/bot/c1', 'exited')   // then the supervisor restarts it
 * await t.waitForState('events/bot/c1', 'polling')
 * await t.stop()
 */
export function createTestRuntime<C = unknown>(options: TestRuntimeOptions<C>): TestRuntime<C> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`options\` to be an object, got ${String(options)}`);
  }
  const { epochMs = DEFAULT_EPOCH_MS, ...rest } = options;
  const clock = new TestClock(epochMs);
  const storage = new MemoryStreamStorage({ clock });
  let activity = 0;
  const history = new Map<string, string[]>();
  const userInspect = options.inspect;
  const inspect = (event: InspectionEvent): void => {
    activity++;
    if (event.type === '@xstate.snapshot') recordState(history, event);
    if (typeof userInspect === 'function') userInspect(event);
    else userInspect?.next?.(event);
  };
  const runtime = createRuntime<C>({
    ...rest,
    storage: countCalls(storage, () => activity++),
    clock,
    random: options.random ?? (() => 0.5),
    logger: options.logger ?? pino({ level: 'silent' }),
    closeStorage: options.closeStorage ?? false,
    inspect,
  });
  for (const consumer of runtime.consumers) history.set(consumer.id, []);
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => {
    activity++;
    events.push(event);
  });
  const driver = new TimeDriver(clock, () => activity);

  const known = (consumerId: string): string[] => {
    const states = history.get(consumerId);
    if (states === undefined) {
      const ids = runtime.consumers.map((c) => `"${c.id}"`).join(', ');
      throw new TypeError(`Expected \`consumerId\` to be one of ${ids}, got "${consumerId}"`);
    }
    return states;
  };
  const stateOf = (consumerId: string): string => {
    known(consumerId);
    return runtime.snapshot().consumers.find((c) => c.id === consumerId)?.state ?? 'unknown';
  };

  return {
    runtime,
    storage,
    clock,
    events,
    start: (wait = {}) => driver.drive(runtime.start(), wait),
    stop: (stopOptions = {}) =>
      driver.drive(runtime.stop(stopOptions), { maxMs: (stopOptions.timeoutMs ?? 10_000) + 10_000 }),
    async publish(stream, type, payload, headers = {}) {
      const fields: StreamFields = { ...headers, type };
      if (payload !== undefined) fields.payload = JSON.stringify(payload);
      const id = await storage.add(stream, fields);
      await driver.settle();
      return id;
    },
    advance: (ms) => driver.advance(ms),
    settle: (settleOptions) => driver.settle(settleOptions),
    async waitForState(consumerId, state, wait = {}) {
      const states = known(consumerId);
      const from = states.length;
      await driver.waitFor(() => states.indexOf(state, from) !== -1 || stateOf(consumerId) === state, {
        ...wait,
        describe: () =>
          `consumer "${consumerId}" did not reach "${state}"; it went through [${states.slice(from).join(' → ')}] and is now "${stateOf(consumerId)}"`,
      });
    },
    waitFor: (predicate, wait) => driver.waitFor(predicate, wait),
    drive: (promise, wait) => driver.drive(promise, wait),
    statesOf: (consumerId) => [...known(consumerId)],
    stateOf,
  };
}

/** Append a consumer machine's new state to its history. */
function recordState(history: Map<string, string[]>, event: InspectedSnapshotEvent): void {
  const id = (event.actorRef as { id?: unknown }).id;
  if (typeof id !== 'string') return;
  const states = history.get(id);
  if (states === undefined) return;
  const snapshot = event.snapshot as { value?: unknown; machine?: { id?: string } };
  if (snapshot.machine?.id !== 'consumer') return;
  const value = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
  if (states[states.length - 1] !== value) states.push(value);
}

/** The storage, with every call counted as activity (so `settle()` sees I/O in progress). */
function countCalls(storage: MemoryStreamStorage, onCall: () => void): StreamStorage {
  return new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        onCall();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
