import type { AnyActorRef, Subscription } from 'xstate';
import { MAX_CONCURRENCY, workerIndex } from '../machines/consumer-machine.js';
import type { ResolvedConsumer } from './runtime-options.js';
import type { RuntimeStatus } from './runtime-snapshot.js';
import { runtimeStateError } from './runtime-state-error.js';

/** What `setConcurrency` needs of its runtime. */
export interface ConcurrencyHost {
  consumers: readonly ResolvedConsumer[];
  status: RuntimeStatus;
  /** The supervisor actor, once started. */
  supervisor: AnyActorRef | null;
}

/**
 * `runtime.setConcurrency`: check the arguments, record the new concurrency in the consumer's spec
 * (a restarted incarnation keeps it), tell the supervisor (which forwards it to the live consumer
 * machine: it spawns workers, its pool retires the ones above `n` once idle), and resolve once the
 * consumer runs exactly `n` worker actors. Before `start()` it only records it.
 *
 * @example
 * await changeConcurrency({ consumers, status: 'running', supervisor }, 'orders/billing/pod-1', 16)
 */
export function changeConcurrency(host: ConcurrencyHost, consumerId: string, n: number): Promise<void> {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    return Promise.reject(
      new RangeError(
        `Expected \`concurrency\` to be an integer from 1 to ${MAX_CONCURRENCY}, got ${String(n)}`,
      ),
    );
  }
  const spec = host.consumers.find((c) => c.id === consumerId);
  if (spec === undefined) {
    return Promise.reject(
      new RangeError(
        `No consumer "${String(consumerId)}" in this runtime; its consumers are: ${host.consumers.map((c) => `"${c.id}"`).join(', ')}`,
      ),
    );
  }
  const { status, supervisor } = host;
  if (status === 'stopping' || status === 'stopped' || status === 'failed') {
    const message = `Cannot change the concurrency of "${consumerId}": the runtime is ${status}`;
    return Promise.reject(runtimeStateError(message));
  }
  spec.concurrency = n;
  if (supervisor === null) return Promise.resolve();
  const done = runsWorkers(supervisor, spec, n);
  supervisor.send({ type: 'concurrency.set', id: consumerId, concurrency: n });
  return done;
}

/**
 * Resolves once the consumer `spec.id` runs exactly `n` worker actors at concurrency `n` (the live
 * incarnation, or the next one after a restart); rejects when the runtime ends first, or when another
 * `setConcurrency` changed it meanwhile.
 */
function runsWorkers(supervisor: AnyActorRef, spec: ResolvedConsumer, n: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let consumer: AnyActorRef | undefined;
    let consumerSub: Subscription | null = null;
    let supervisorSub: Subscription | null = null;
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      consumerSub?.unsubscribe();
      supervisorSub?.unsubscribe();
      if (error === null) resolve();
      else reject(error);
    };
    const check = () => {
      if (settled) return;
      if (spec.concurrency !== n) {
        const message = `The concurrency of "${spec.id}" was changed to ${spec.concurrency} before it ran with ${n} workers`;
        return settle(runtimeStateError(message));
      }
      const snapshot = supervisor.getSnapshot() as { status: string; children: Record<string, AnyActorRef> };
      if (snapshot.status !== 'active') {
        const message = `The runtime stopped before "${spec.id}" ran with ${n} workers`;
        return settle(runtimeStateError(message));
      }
      const ref = snapshot.children[spec.id];
      if (ref !== consumer) {
        consumerSub?.unsubscribe();
        consumer = ref;
        consumerSub = ref?.subscribe({ next: check, error: check, complete: check }) ?? null;
      }
      if (consumer !== undefined && runs(consumer, n)) settle(null);
    };
    supervisorSub = supervisor.subscribe({ next: check, error: check, complete: check });
    check();
  });
}

/** The consumer machine is active at concurrency `n` with exactly `n` worker children. */
function runs(consumer: AnyActorRef, n: number): boolean {
  const snapshot = consumer.getSnapshot() as {
    status: string;
    context: { concurrency: number };
    children: Record<string, unknown>;
  };
  if (snapshot.status !== 'active' || snapshot.context.concurrency !== n) return false;
  return Object.keys(snapshot.children).filter((id) => workerIndex(id) >= 0).length === n;
}
