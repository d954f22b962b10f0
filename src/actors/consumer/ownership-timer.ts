import type { ConsumerDeps } from '../consumer-deps.js';

/**
 * Keeps a consumer's in-flight messages owned: every `claim.minIdleMs / 3` it resets their idle time
 * (`XCLAIM … JUSTID`), so no other consumer's XAUTOCLAIM takes a message still being worked on.
 * A failure is logged at warn the first time (a missing XCLAIM permission would otherwise let slow
 * messages be claimed and run twice), at debug after that; it never stops the consumer.
 */
export class OwnershipTimer {
  #deps: ConsumerDeps;
  #ids: () => string[];
  #timer: unknown = null;
  #stopped = false;
  #warned = false;

  constructor(deps: ConsumerDeps, ids: () => string[]) {
    this.#deps = deps;
    this.#ids = ids;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    const every = Math.max(50, Math.floor(this.#deps.spec.claim.minIdleMs / 3));
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#timer = null;
      if (this.#stopped) return;
      const ids = this.#ids();
      const next = () => {
        if (!this.#stopped) this.#schedule();
      };
      if (ids.length === 0) return next();
      const { spec, storage, logger } = this.#deps;
      storage.touch(spec.stream, spec.group, spec.consumer, ids).then(next, (error: unknown) => {
        const message = 'could not reset the idle time of in-flight messages; other consumers may claim them';
        if (this.#warned) logger.debug({ err: error }, message);
        else logger.warn({ err: error }, message);
        this.#warned = true;
        next();
      });
    }, every);
  }
}
