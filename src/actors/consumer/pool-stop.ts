import type { Clock } from '../../clock.js';
import { ConsumerStoppingError } from '../../errors/consumer-stopping-error.js';
import type { ConsumerDeps } from '../consumer-deps.js';
import type { WorkerPool } from '../dispatch/worker-pool.js';

/** After aborting handlers at the stop deadline, how long to wait for them to settle, ms. */
const ABORT_GRACE_MS = 1000;

/**
 * Callers of `ConsumerIo` waiting for one condition (free capacity, an empty pool), resolved all
 * together when it holds.
 *
 * @example
 * const free = new Waiters(); const waiting = free.wait(); free.release() // waiting resolves
 */
export class Waiters {
  #resolves: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.#resolves.push(resolve));
  }

  /** As `wait`, resolved after `ms` at the latest (a timer of `clock`, cleared on release). */
  waitAtMost(clock: Clock, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => done(), ms);
      const done = () => {
        clock.clearTimeout(timer);
        resolve();
      };
      this.#resolves.push(done);
    });
  }

  release(): void {
    if (this.#resolves.length > 0) for (const resolve of this.#resolves.splice(0)) resolve();
  }
}

/**
 * The worker pool's part of a stop: it takes no more work (messages still waiting for a worker or
 * their ordering key never started: they stay pending); in-flight handlers finish until `timeoutMs`
 * (`null`: 10 s), then are aborted through their signal and get `ABORT_GRACE_MS` more to settle
 * (what did not finish stays pending). `settled` is released whenever the pool runs empty.
 *
 * @example
 * await drainPool(deps, io.pool, settleWaiters, 30_000)
 */
export async function drainPool(
  deps: ConsumerDeps,
  pool: WorkerPool,
  settled: Waiters,
  timeoutMs: number | null,
): Promise<void> {
  pool.close();
  const deadline = timeoutMs ?? 10_000;
  if (pool.held.size > 0) await settled.waitAtMost(deps.clock, deadline);
  if (pool.held.size > 0) {
    deps.logger.warn(
      { inFlight: pool.held.size },
      'stop deadline reached; aborting handlers, their messages stay pending',
    );
    pool.abortAll(new ConsumerStoppingError(), true);
    // A message waiting for its next attempt is released by the abort itself, at once.
    if (pool.held.size > 0) await settled.waitAtMost(deps.clock, Math.min(ABORT_GRACE_MS, deadline));
  }
}

/**
 * The worker pool's part of the end of an incarnation: it takes no more work, every handler still
 * running is aborted (its message stays pending, to be handled again later), and the pool forgets
 * them all, ending their traces.
 *
 * @example
 * abandonPool(io.pool)
 */
export function abandonPool(pool: WorkerPool): void {
  pool.close();
  pool.abortAll(
    new ConsumerStoppingError(
      'The consumer was stopped; this message stays pending and is handled again later',
    ),
    false,
  );
  for (const job of pool.held.values()) job.trace?.end();
  pool.held.clear();
}
