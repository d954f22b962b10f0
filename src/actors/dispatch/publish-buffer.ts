import type { OutputMessage } from '../../wire/publish.js';

/**
 * What `ctx.publish` collects during one attempt of a message (or one `runtime.dispatch`): the
 * outputs of the handler running now, and those of the handlers that succeeded. A handler that
 * fails drops its own; once the attempt is over, `ctx.publish` throws (the message is acked or
 * failed already, so a late output would be lost without a word).
 */
export class PublishBuffer {
  #running: OutputMessage[] | null = null;
  #kept: OutputMessage[] | null = null;
  #closed = false;

  add(output: OutputMessage): void {
    if (this.#closed) {
      throw new Error(
        `ctx.publish("${output.stream}", "${output.fields.type}") was called after its handler settled: its message is already acked or failed. Await everything the handler does before it returns, or use publish() for a write that outlives it`,
      );
    }
    this.#running ??= [];
    this.#running.push(output);
  }

  /** The running handler settled: keep what it published when it succeeded, drop it when it failed. */
  settled(ok: boolean): void {
    const running = this.#running;
    this.#running = null;
    if (!ok || running === null) return;
    if (this.#kept === null) this.#kept = running;
    else this.#kept.push(...running);
  }

  /**
   * The attempt is over: drop what a handler that did not settle published, refuse later outputs, and
   * return what the handlers that succeeded published (null: nothing).
   */
  close(): OutputMessage[] | null {
    this.#closed = true;
    this.#running = null;
    return this.#kept;
  }
}
