import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { ConnectionError } from '../../src/errors/connection-error.js';
import { createRuntime, MemoryStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import type { ReadGroupOptions, StreamEntry } from '../../src/storage/stream-storage.js';
import { waitUntil } from './retry-support.js';

// The consumer's read loop (consumer-io.ts): while workers are free and no recovery is due, the
// `io` actor reads again by itself. The consumer machine hears of the loop's first read and of the
// read after which it stops, not of the reads in between (see the consumer machine's spec).

/** Memory storage that counts its reads; `failNext` makes the next read lose its connection. */
class CountedReads extends MemoryStreamStorage {
  reads = 0;
  failNext = false;
  override readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]> {
    this.reads++;
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new ConnectionError('connection lost (injected)'));
    }
    return super.readGroup(stream, group, consumer, options);
  }
}

/**
 * A runtime whose inspection observer records the consumer's events and state values. `closeStorage`
 * false: the storage outlives the runtime (a read after the stop would still be served).
 */
function observed(storage: MemoryStreamStorage, claimIntervalMs: number, closeStorage = true) {
  const events: string[] = [];
  const states: string[] = [];
  const outputs: unknown[] = [];
  const inspect = (event: InspectionEvent) => {
    const ref = event.actorRef as AnyActorRef;
    if (ref.id !== 's/g/c') return;
    if (event.type === '@xstate.event') events.push(event.event.type);
    if (event.type !== '@xstate.snapshot') return;
    const snapshot = event.snapshot as unknown as { value: unknown; status: string; output?: unknown };
    states.push(String(snapshot.value));
    if (snapshot.status === 'done') outputs.push(snapshot.output);
  };
  const runtime = createRuntime({
    storage,
    router: new Router().on('work', () => {}),
    inspect,
    closeStorage,
    consumers: [
      {
        stream: 's',
        group: 'g',
        consumer: 'c',
        concurrency: 4,
        startId: '0',
        blockMs: 20,
        claim: { intervalMs: claimIntervalMs },
      },
    ],
    supervisor: { backoff: { minMs: 1, maxMs: 5 } },
  });
  return { runtime, events, states, outputs };
}

/** Publishes `total` messages one at a time, each once the previous one was handled; their ids. */
async function oneByOne(
  storage: MemoryStreamStorage,
  runtime: ReturnType<typeof createRuntime>,
  total: number,
): Promise<string[]> {
  const ids: string[] = [];
  const processed = runtime.stats('s/g/c')!.processed;
  for (let n = 0; n < total; n++) {
    ids.push(await storage.add('s', { type: 'work', n: String(n) }));
    await waitUntil(() => runtime.stats('s/g/c')!.processed > processed + n);
  }
  return ids;
}

describe('the read loop', () => {
  it('under light load, one message per read: one io.read.done for many reads, the consumer stays polling', async () => {
    const storage = new CountedReads();
    const { runtime, events, states } = observed(storage, 60_000);
    await runtime.start();
    await waitUntil(() => states.at(-1) === 'polling');
    const readsBefore = storage.reads;
    const total = 40;
    await oneByOne(storage, runtime, total);
    const reads = storage.reads - readsBefore;
    const done = events.filter((type) => type === 'io.read.done').length;
    await runtime.stop();
    // Each message was its own read (or more: a read may also time out empty).
    expect(reads).toBeGreaterThanOrEqual(total);
    // The loop's first read is the only one the consumer heard of; it never left polling.
    expect(done).toBe(1);
    expect(states.slice(states.indexOf('polling'))).not.toContain('dispatching');
  });

  it('ends with the stop: a read in flight at the stop is the last one, on a storage that stays open', async () => {
    const storage = new CountedReads();
    const { runtime, states } = observed(storage, 60_000, false);
    await runtime.start();
    await waitUntil(() => states.at(-1) === 'polling');
    await oneByOne(storage, runtime, 3);
    // Empty reads block 20 ms each: the stop lands while one is in flight.
    await runtime.stop();
    const readsAtStop = storage.reads;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(storage.reads).toBe(readsAtStop);
    await storage.close();
  });

  it('stops when a recovery comes due: the consumer goes through dispatching to recovering', async () => {
    const storage = new MemoryStreamStorage();
    const { runtime, states } = observed(storage, 50);
    await runtime.start();
    // Empty reads time out every 20 ms; after 50 ms the loop stops and the consumer recovers again.
    await waitUntil(() => states.filter((value) => value === 'recovering').length >= 3);
    await runtime.stop();
    const sequence = states.filter((value, i) => value !== states[i - 1]);
    expect(sequence.slice(0, 6)).toEqual([
      'creatingGroup',
      'recovering',
      'polling',
      'dispatching',
      'recovering',
      'polling',
    ]);
  });

  it('the consumer learns the newest id the loop read when the loop fails and when it drains', async () => {
    const storage = new CountedReads();
    const { runtime, states, outputs } = observed(storage, 60_000);
    const created: string[] = [];
    runtime.subscribe((event: RuntimeEvent) => {
      if (event.type === 'consumer.group-created') created.push(event.startId);
    });
    await runtime.start();
    await waitUntil(() => states.at(-1) === 'polling');
    const first = await oneByOne(storage, runtime, 10);
    // A lost connection: backoff, then the group is created again where the loop got to (it exists,
    // so that is a no-op here; had it been destroyed meanwhile, nothing read would come back).
    storage.failNext = true;
    await waitUntil(() => created.length === 2);
    expect(created).toEqual(['0', first.at(-1)]);
    const second = await oneByOne(storage, runtime, 10);
    await runtime.stop();
    expect(outputs).toEqual([{ reason: 'stopped', error: null, lastId: second.at(-1) }]);
  });
});
