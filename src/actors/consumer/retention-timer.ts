import type { ConsumerDeps } from '../consumer-deps.js';

/**
 * Runs a consumer's `retention`: every `intervalMs` it trims the consumer's stream of what every
 * group has delivered and acked (`storage.trimAcked`), and counts what it removed in the consumer's
 * stats (`trimmed`). Owned by one consumer incarnation's session and stopped with it, so no timer
 * outlives the consumer. One trim at a time; a failure is logged (warn the first time, then debug)
 * and never stops the consumer: the next interval tries again.
 *
 * @example
 * const timer = RetentionTimer.start(deps)   // null when the consumer has no `retention`
 * timer?.stop()
 */
export class RetentionTimer {
  #deps: ConsumerDeps;
  #intervalMs: number;
  #keepMs: number;
  #timer: unknown = null;
  #stopped = false;
  #warned = false;

  private constructor(deps: ConsumerDeps, intervalMs: number, keepMs: number) {
    this.#deps = deps;
    this.#intervalMs = intervalMs;
    this.#keepMs = keepMs;
    this.#schedule();
  }

  /** Start trimming for the consumer of `deps`, or return `null` when it has no `retention`. */
  static start(deps: ConsumerDeps): RetentionTimer | null {
    const retention = deps.spec.retention;
    const trim = deps.storage.trimAcked;
    if (retention === null || trim === undefined) return null;
    return new RetentionTimer(deps, retention.intervalMs, retention.keepMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) void this.#trim();
    }, this.#intervalMs);
  }

  async #trim(): Promise<void> {
    const { spec, storage, stats, logger } = this.#deps;
    try {
      const options = this.#keepMs > 0 ? { keepMs: this.#keepMs } : {};
      const trimmed = (await storage.trimAcked?.(spec.stream, options)) ?? 0;
      stats.trimmed += trimmed;
      if (trimmed > 0) logger.debug({ trimmed }, 'trimmed entries every group has acked');
    } catch (error) {
      if (this.#stopped) return;
      const message = 'could not trim the stream (retention); trying again next interval';
      if (this.#warned) logger.debug({ err: error }, message);
      else logger.warn({ err: error }, message);
      this.#warned = true;
    }
    if (!this.#stopped) this.#schedule();
  }
}
