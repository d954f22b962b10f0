/** Pure delay formulas shared by the consumer (connection backoff), the dispatch worker (retries) and the supervisor (restarts). */

export interface ExponentialBackoff {
  /** First delay, ms. */
  initialMs: number;
  /** Cap, ms. */
  maxMs: number;
}

/**
 * `min(maxMs, initialMs × 2^(attempt-1))` with "equal jitter": the result lies in `[d/2, d]`, so
 * consumers that failed together do not retry together, yet never wait less than half the step.
 * `random` returns a number in [0, 1); pass `() => 1` for no jitter (deterministic tests).
 *
 * @example
 * exponentialDelay(3, { initialMs: 100, maxMs: 10_000 }, () => 1) // 400
 */
/** A source of randomness in [0, 1); machines take one in their input (the runtime passes `random`). */
export type Random = () => number;

/** Without a `random` in its input, a machine waits the full step: deterministic in tests. */
export const fullStep: Random = () => 1;

export function exponentialDelay(attempt: number, backoff: ExponentialBackoff, random: () => number): number {
  const step = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(step / 2 + (step / 2) * random());
}

export interface RestartBackoff {
  /** @default 500 */
  minMs: number;
  /** @default 30000 */
  maxMs: number;
  /** Each delay is multiplied by `1 + random × randomFactor`. @default 0.2 */
  randomFactor: number;
}

/**
 * Akka's `BackoffSupervisor` delay: `min(maxMs, minMs × 2^restartCount) × (1 + random × randomFactor)`.
 * `restartCount` counts from 0 for the first restart.
 *
 * @example
 * restartDelay(2, { minMs: 100, maxMs: 10_000, randomFactor: 0 }, Math.random) // 400
 */
export function restartDelay(restartCount: number, backoff: RestartBackoff, random: () => number): number {
  const base =
    restartCount >= 30 ? backoff.maxMs : Math.min(backoff.maxMs, backoff.minMs * 2 ** restartCount);
  return Math.round(base * (1 + random() * backoff.randomFactor));
}
