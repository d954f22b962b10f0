import type { Logger } from 'pino';
import { ConsumerStoppingError } from '../../errors/consumer-stopping-error.js';
import type { HandlerContext } from '../../routing/handler.js';
import type { StreamStorage } from '../../storage/stream-storage.js';
import { encodePublish, type PublishOptions } from '../../wire/publish.js';
import type { ResolvedConsumer } from '../consumer-options.js';
import type { DispatchJob } from './dispatch-job.js';
import { PublishBuffer } from './publish-buffer.js';

/** What a handler's `ctx` needs from its consumer. */
export interface ContextDeps {
  spec: ResolvedConsumer;
  storage: StreamStorage;
  container: unknown;
  logger: Logger;
}

/**
 * `ctx` of a handler. The child logger is made only when a handler asks for it, and so are the
 * AbortController behind `ctx.signal` (unless the attempt has a timeout, which makes it up front)
 * and the buffer behind `ctx.publish`: a message that publishes nothing pays for none of them.
 */
export class AttemptContext implements HandlerContext<unknown> {
  readonly container: unknown;
  readonly attempt: number;
  #deps: ContextDeps;
  #job: DispatchJob;
  /** Kept here: a handler may still log after its message left the pool (acked, or released by a stop). */
  #type: string | undefined;
  #log: Logger | undefined;
  #outputs: PublishBuffer | null = null;
  #ended = false;

  constructor(deps: ContextDeps, job: DispatchJob, attempt: number) {
    this.container = deps.container;
    this.attempt = attempt;
    this.#deps = deps;
    this.#job = job;
    this.#type = job.message?.type;
  }

  get signal(): AbortSignal {
    const job = this.#job;
    if (job.controller === null) {
      job.controller = new AbortController();
      // A stop that already released the message: the signal starts aborted.
      if (job.released) job.controller.abort(new ConsumerStoppingError());
    }
    return job.controller.signal;
  }

  get log(): Logger {
    this.#log ??= this.#deps.logger.child({ messageId: this.#job.id, messageType: this.#type });
    return this.#log;
  }

  publish(stream: string, type: string, payload?: unknown, options?: PublishOptions): void {
    const output = encodePublish(stream, type, payload, options);
    const { storage, spec } = this.#deps;
    if (typeof storage.ackAndAdd !== 'function') {
      throw new TypeError(
        `Expected the storage to have \`ackAndAdd\` for ctx.publish (outputs written with the ack); this ${storage.kind} storage has none: use publish(storage, …), written at once and at least once`,
      );
    }
    if (storage.sameSlot?.(spec.stream, output.stream) === false) {
      throw new TypeError(
        `Expected ctx.publish's stream "${output.stream}" to share the Redis Cluster slot of the consumed stream "${spec.stream}": outputs are written in one script with the message's XACK, which a Cluster runs only within one slot. Give both the same hash tag (e.g. "${taggedExample(spec.stream)}"), or use publish(storage, …), which writes anywhere, at least once`,
      );
    }
    this.#outputs ??= new PublishBuffer();
    // After the attempt, the buffer is closed: `add` throws, saying why.
    if (this.#ended) this.#outputs.close();
    this.#outputs.add(output);
  }

  /** A handler starts (several run in one attempt): drop what a failed one before it published. */
  started(): void {
    this.#outputs?.settled(false);
  }

  /** A handler settled: keep what it published when it succeeded. */
  settled(ok: boolean): void {
    this.#outputs?.settled(ok);
  }

  /**
   * The attempt is over (`ok`: its last handler succeeded): what its succeeded handlers published
   * joins the message's outputs (written with its ack); `ctx.publish` throws from now on.
   */
  end(ok: boolean): void {
    this.#ended = true;
    const outputs = this.#outputs;
    if (outputs === null) return;
    outputs.settled(ok);
    const kept = outputs.close();
    if (kept === null) return;
    const job = this.#job;
    job.outputs = job.outputs === null ? kept : job.outputs.concat(kept);
  }
}

/** A name in the slot of `stream`: `{orders}:out` for `orders`, `orders:{3}:out` for `orders:{3}`. */
function taggedExample(stream: string): string {
  const open = stream.indexOf('{');
  return open >= 0 && stream.indexOf('}', open + 2) > 0 ? `${stream}:out` : `{${stream}}:out`;
}
