import type { TestClock } from './test-clock.js';

/** Bounds of a wait on simulated time. */
export interface WaitOptions {
  /** Most simulated time to let pass before giving up, ms. @default 60000 */
  maxMs?: number;
}

/** Bounds of `settle()`. */
export interface SettleOptions {
  /** Most event-loop turns before `settle()` gives up and throws. @default 10000 */
  maxRounds?: number;
}

/** Turns without activity after which the system counts as quiet. */
const QUIET_ROUNDS = 3;
/** Most timer deadlines one `advance()` or wait may step through before it suspects a timer loop. */
const MAX_STEPS = 100_000;

/**
 * Let pending promise callbacks and `setImmediate` callbacks run: `rounds` turns of the event loop.
 *
 * @example
 * actor.send({ type: 'go' })
 * await flushPromises()        // fromPromise stubs that resolved have reported back
 */
export async function flushPromises(rounds = 1): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Moves a `TestClock` deadline by deadline and lets promises settle between deadlines, so timers fire
 * in order and everything a timer starts (a promise actor, a blocked read, an ack batch on
 * `setImmediate`) runs before the next one. `activity()` is any counter that grows while the system
 * under test is busy; the driver adds the clock's own activity.
 *
 * @example
 * const clock = new TestClock()
 * const driver = new TimeDriver(clock, () => 0)
 * await driver.advance(1_000)   // fires every timer due in the next second, in order
 */
export class TimeDriver {
  readonly #clock: TestClock;
  readonly #activity: () => number;

  constructor(clock: TestClock, activity: () => number = () => 0) {
    this.#clock = clock;
    this.#activity = activity;
  }

  #signature(): number {
    return this.#clock.activity + this.#activity();
  }

  /**
   * Without moving time: fire timers already due, and flush promises and immediates until nothing
   * happens for a few turns. Throws when the system stays busy for `maxRounds` turns (something spins
   * without waiting for time).
   *
   * @example
   * await storage.add('events', { type: 'x' })
   * await driver.settle()   // the blocked read returned and the handler ran
   */
  async settle(options: SettleOptions = {}): Promise<void> {
    const maxRounds = options.maxRounds ?? 10_000;
    let quiet = 0;
    for (let round = 0; round < maxRounds; round++) {
      const before = this.#signature();
      const next = this.#clock.nextDeadline();
      if (next !== undefined && next <= this.#clock.now()) this.#clock.increment(0);
      await flushPromises();
      if (this.#signature() === before) {
        quiet++;
        if (quiet >= QUIET_ROUNDS) return;
      } else {
        quiet = 0;
      }
    }
    throw new Error(
      `The system did not settle within ${maxRounds} event-loop turns without time passing: something keeps running (a loop that does not wait for the clock?)`,
    );
  }

  /**
   * Move simulated time forward by `ms`, stopping at every timer deadline on the way to fire it and
   * settle, then settle at the end.
   *
   * @example
   * await driver.advance(30_000)   // a 30 s claim interval elapses; recovery ran
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`Expected \`ms\` to be a number ≥ 0, got ${ms}`);
    await this.#until(() => false, this.#clock.now() + ms);
  }

  /**
   * Advance simulated time, deadline by deadline, until `predicate()` holds (checked after every
   * settle). Throws when it still does not hold after `maxMs` of simulated time; the message ends
   * with `describe()`, if given (say what was seen instead).
   *
   * @example
   * await driver.waitFor(() => handled.length === 3, { maxMs: 5_000 })
   */
  async waitFor(
    predicate: () => boolean,
    options: WaitOptions & { describe?: () => string } = {},
  ): Promise<void> {
    const maxMs = options.maxMs ?? 60_000;
    if (!Number.isFinite(maxMs) || maxMs < 0) {
      throw new TypeError(`Expected \`maxMs\` to be a number ≥ 0, got ${String(options.maxMs)}`);
    }
    if (await this.#until(predicate, this.#clock.now() + maxMs)) return;
    const seen = options.describe ? `; ${options.describe()}` : '';
    throw new Error(`Condition not met after ${maxMs} ms of simulated time${seen}`);
  }

  /** Step through deadlines up to `limit` (ms since the epoch); true as soon as `predicate()` holds. */
  async #until(predicate: () => boolean, limit: number): Promise<boolean> {
    await this.settle();
    if (predicate()) return true;
    for (let step = 0; step < MAX_STEPS; step++) {
      const next = this.#clock.nextDeadline();
      if (next === undefined || next > limit) {
        if (this.#clock.now() < limit) this.#clock.set(limit);
        await this.settle();
        return predicate();
      }
      this.#clock.set(Math.max(next, this.#clock.now()));
      await this.settle();
      if (predicate()) return true;
    }
    throw new Error(
      `Stepped through ${MAX_STEPS} timer deadlines in one wait: a timer that re-arms at 0 ms?`,
    );
  }

  /**
   * Advance simulated time until `promise` settles, and return (or throw) what it settled with.
   *
   * @example
   * await driver.drive(runtime.stop({ timeoutMs: 1_000 }), { maxMs: 10_000 })
   */
  async drive<T>(promise: Promise<T>, options: WaitOptions = {}): Promise<T> {
    let settled = false;
    const observed = promise.then(
      (value) => {
        settled = true;
        return value;
      },
      (error: unknown) => {
        settled = true;
        throw error;
      },
    );
    // Keep the rejection from being reported as unhandled while time is moving.
    observed.catch(() => undefined);
    await this.waitFor(() => settled, { ...options, describe: () => 'the promise is still pending' });
    return observed;
  }
}
