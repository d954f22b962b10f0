import type { EntryWrite } from '../../storage/stream-storage.js';
import type { ConsumerDeps } from '../consumer-deps.js';
import { AckBatcher } from './ack-batcher.js';
import { OutputAcks } from './output-acks.js';

/** Wait before sending a batched XACK again after a connection error, ms. */
const ACK_RETRY_MS = 200;

/**
 * Where one consumer incarnation's handled messages are acked: without outputs in the batched XACK
 * (`AckBatcher`), with `ctx.publish` outputs one by one through `ackAndAdd` (`OutputAcks`).
 *
 * @example
 * const acks = new AckSink(deps, onError); acks.add('1-0'); await acks.flush()
 */
export class AckSink {
  readonly #batched: AckBatcher;
  readonly #withOutputs: OutputAcks;

  /** `onError` is called when an ack fails for a reason other than the connection (NOGROUP, …). */
  constructor(deps: ConsumerDeps, onError: (error: unknown) => void) {
    const { spec, clock } = deps;
    this.#batched = new AckBatcher({
      storage: deps.storage,
      stream: spec.stream,
      group: spec.group,
      retryMs: ACK_RETRY_MS,
      setTimer: (fn, ms) => clock.setTimeout(fn, ms),
      clearTimer: (handle) => clock.clearTimeout(handle),
      onError,
    });
    this.#withOutputs = new OutputAcks(deps, onError);
  }

  /** A message handled without outputs: into the next batched XACK. */
  add(id: string): void {
    this.#batched.add(id);
  }

  /** A message whose handlers published `outputs`: its XACK and their XADDs in one `ackAndAdd`. */
  addWith(id: string, outputs: readonly EntryWrite[]): void {
    this.#withOutputs.add(id, outputs);
  }

  /** Ids handled whose ack has not landed yet (see recover-pending.ts). */
  unconfirmed(): ReadonlySet<string> {
    const withOutputs = this.#withOutputs.unconfirmed();
    const batched = this.#batched.unconfirmed();
    return withOutputs.size === 0 ? batched : new Set([...batched, ...withOutputs]);
  }

  /** Send every ack still queued or waiting for a retry (the drain's last try). */
  async flush(): Promise<void> {
    await Promise.all([this.#batched.flush(), this.#withOutputs.flush()]);
  }

  close(): void {
    this.#batched.close();
    this.#withOutputs.close();
  }
}
