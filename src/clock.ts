/**
 * Time as streamvisor sees it. The shape is XState's `Clock` plus `now()`, so XState's own
 * `SimulatedClock` is a valid `Clock`: pass one to `createRuntime({ clock })` and to
 * `new MemoryStreamStorage({ clock })` and every timer, id and idle time moves only when the test
 * says so.
 *
 * @example
 * import { SimulatedClock } from 'xstate'
 * const clock = new SimulatedClock(); clock.set(1_700_000_000_000)
 * const storage = new MemoryStreamStorage({ clock })
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: (...args: unknown[]) => void, timeoutMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now()` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
