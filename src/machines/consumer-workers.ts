/**
 * The consumer machine's dispatch workers, spawned and stopped as its concurrency changes (see the
 * consumer machine's spec, "Workers"):
 *
 * - on entry, `spawnWorkers` spawns `w0 … w(concurrency-1)`;
 * - `concurrency.set { concurrency: n }` (`resizeWorkers`) spawns every `wi` (i < n) that is not
 *   alive and records `n`; the named action `resize` then tells the I/O session, whose pool retires
 *   the workers from `wn` up: idle ones at once, busy ones after their current message;
 * - `io.workers.retired { ids }` (`stopRetired`, from the pool) stops those workers, so they leave
 *   `snapshot.children` (a spawned child stays there until `stopChild`). An id that is below the
 *   concurrency again (a `concurrency.set` came in between) is kept: the pool took it back.
 *
 * Worker ids are stable (`w0 …`): a stopped worker's id is reused when the pool grows again, so the
 * machine's per-event-type caches stay bounded (see dispatch-worker-machine.ts).
 */
import { enqueueActions } from 'xstate';
import type { ConsumerContext, ConsumerEvent } from './consumer-types.js';
import type { dispatchWorkerMachine } from './dispatch-worker-machine.js';
import { workerId, workerSystemId } from './ids.js';

/** Most dispatch workers a consumer runs (`concurrency` and `runtime.setConcurrency`). */
export const MAX_CONCURRENCY = 1024;

/** The index of a worker id (`w12` → 12); -1 for any other child id. */
export function workerIndex(id: string): number {
  return /^w\d+$/.test(id) ? Number(id.slice(1)) : -1;
}

/** The consumer's `worker` actor, as its `setup` names it. */
type WorkerActor = { src: 'worker'; logic: typeof dispatchWorkerMachine; id: string | undefined };

/** The worker ids below `count` that `alive` does not hold, in order. */
function missing(count: number, alive: readonly string[]): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) if (!alive.includes(workerId(i))) ids.push(workerId(i));
  return ids;
}

/** The spawn options of worker `id` of the incarnation `context` describes. */
function workerOptions(context: ConsumerContext, id: string) {
  return {
    id,
    systemId: workerSystemId(context.session, id),
    input: { ...context.worker, session: context.session, workerId: id },
  };
}

/** Entry: spawn `w0 … w(concurrency-1)`. */
export const spawnWorkers = enqueueActions<
  ConsumerContext,
  ConsumerEvent,
  undefined,
  ConsumerEvent,
  WorkerActor,
  never,
  never,
  never,
  never
>(({ context, enqueue }) => {
  const ids = missing(context.concurrency, []);
  for (const id of ids) enqueue.spawnChild('worker', workerOptions(context, id));
  enqueue.assign({ workers: ids });
});

/** `concurrency.set`: spawn the missing workers below the new concurrency and record it. */
export const resizeWorkers = enqueueActions<
  ConsumerContext,
  ConsumerEvent,
  undefined,
  ConsumerEvent,
  WorkerActor,
  never,
  never,
  never,
  never
>(({ context, event, enqueue }) => {
  if (event.type !== 'concurrency.set') return;
  const ids = missing(event.concurrency, context.workers);
  for (const id of ids) enqueue.spawnChild('worker', workerOptions(context, id));
  enqueue.assign({ concurrency: event.concurrency, workers: [...context.workers, ...ids] });
});

/** `io.workers.retired`: stop the workers the pool let go (unless the concurrency grew back over them). */
export const stopRetired = enqueueActions<
  ConsumerContext,
  ConsumerEvent,
  undefined,
  ConsumerEvent,
  WorkerActor,
  never,
  never,
  never,
  never
>(({ context, event, enqueue }) => {
  if (event.type !== 'io.workers.retired') return;
  const stopped = event.ids.filter(
    (id) => context.workers.includes(id) && workerIndex(id) >= context.concurrency,
  );
  if (stopped.length === 0) return;
  for (const id of stopped) enqueue.stopChild(id);
  enqueue.assign({ workers: context.workers.filter((id) => !stopped.includes(id)) });
});
