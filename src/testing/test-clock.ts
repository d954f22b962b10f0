import { SimulatedClock } from 'xstate';

/** The default start of simulated time: 2023-11-14T22:13:20Z, ms since the Unix epoch. */
export const DEFAULT_EPOCH_MS = 1_700_000_000_000;

/**
 * XState's `SimulatedClock` that also knows its pending timers, so a test driver can move time from
 * one deadline to the next and let promises settle in between (the bare `SimulatedClock` fires every
 * due timer in one go and never flushes promises). It is a valid streamvisor `Clock` and XState
 * `Clock`: hand the same instance to the runtime and to `MemoryStreamStorage`.
 *
 * @example
 * const clock = new TestClock()          // starts at DEFAULT_EPOCH_MS
 * clock.setTimeout(() => {}, 250)
 * clock.nextDeadline()                   // DEFAULT_EPOCH_MS + 250
 * clock.increment(250)                   // fires it
 */
export class TestClock extends SimulatedClock {
  readonly #deadlines = new Map<number, number>();
  #activity = 0;

  /** @param epochMs where simulated time starts, ms since the Unix epoch. @default DEFAULT_EPOCH_MS */
  constructor(epochMs: number = DEFAULT_EPOCH_MS) {
    super();
    if (!Number.isFinite(epochMs) || epochMs < 0) {
      throw new TypeError(`Expected \`epochMs\` to be a number ≥ 0, got ${String(epochMs)}`);
    }
    this.set(epochMs);
  }

  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    this.#activity++;
    const delay = Number.isFinite(timeout) && timeout > 0 ? timeout : 0;
    let id = -1;
    const fire = () => {
      this.#deadlines.delete(id);
      this.#activity++;
      fn();
    };
    id = super.setTimeout(fire, delay);
    this.#deadlines.set(id, this.now() + delay);
    return id;
  }

  override clearTimeout(id: number): void {
    if (this.#deadlines.delete(id)) this.#activity++;
    super.clearTimeout(id);
  }

  /** The earliest deadline of a pending timer (ms since the epoch), or `undefined` when none is pending. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const at of this.#deadlines.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#deadlines.size;
  }

  /** A counter bumped by every timer set, cleared or fired; drivers compare it to detect quiet. */
  get activity(): number {
    return this.#activity;
  }
}
