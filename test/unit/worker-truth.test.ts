import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createRuntime, MemoryStreamStorage, Router } from '../../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The real state and job of a worker actor, read from the actor itself. */
function real(ref: AnyActorRef): { state: string; jobId: string | null } {
  const snapshot = ref.getSnapshot() as { value: unknown; context: { job: { id: string } | null } };
  return { state: String(snapshot.value), jobId: snapshot.context.job?.id ?? null };
}

describe('worker actors tell the truth (inspection observer, concurrency 4, handlers of a few ms)', () => {
  it('a message runs only on a running worker whose job it is; the snapshot shows each actor as it is', async () => {
    const storage = new MemoryStreamStorage();
    const workers = new Map<string, AnyActorRef>();
    /** The state each worker was last seen in by the observer (from `@xstate.snapshot`). */
    const observed = new Map<AnyActorRef, string>();
    const workerEvents = new Map<AnyActorRef, number>();
    let leftIdle = 0;
    let backToIdle = 0;
    let allEvents = 0;
    const inspect = (event: InspectionEvent) => {
      allEvents++;
      const ref = event.actorRef as AnyActorRef;
      if (event.type === '@xstate.actor' && /^w\d+$/.test(ref.id)) workers.set(ref.id, ref);
      if (!workers.has(ref.id) || workers.get(ref.id) !== ref) return;
      workerEvents.set(ref, (workerEvents.get(ref) ?? 0) + 1);
      if (event.type === '@xstate.snapshot') {
        const value = String((event.snapshot as unknown as { value: unknown }).value);
        const before = observed.get(ref) ?? 'idle';
        if (before === 'idle' && value !== 'idle') leftIdle++;
        if (before !== 'idle' && value === 'idle') backToIdle++;
        observed.set(ref, value);
      }
    };

    const running = new Set<string>();
    let samples = 0;
    const problems: string[] = [];
    let runtime: ReturnType<typeof createRuntime> | null = null;
    const sample = (where: string) => {
      if (runtime === null) return;
      samples++;
      const refs = [...workers.values()];
      const busy = refs.filter((ref) => real(ref).state !== 'idle');
      // (a) at least as many workers out of idle as handlers running, and each running message is
      // the job of a running worker
      if (busy.length < running.size)
        problems.push(`${where}: ${busy.length} busy workers, ${running.size} handlers`);
      const jobs = new Set(busy.map((ref) => real(ref).jobId));
      for (const id of running) if (!jobs.has(id)) problems.push(`${where}: ${id} runs on no running worker`);
      // (b) every worker in runtime.snapshot() is in the state its actor is in (and the observer saw)
      for (const worker of runtime.snapshot().consumers[0]!.workers) {
        const ref = workers.get(worker.id)!;
        const actual = real(ref);
        if (worker.state !== actual.state)
          problems.push(`${where}: ${worker.id} ${worker.state} ≠ ${actual.state}`);
        if (observed.has(ref) && observed.get(ref) !== actual.state)
          problems.push(`${where}: observer saw ${worker.id} ${observed.get(ref)} ≠ ${actual.state}`);
        if (actual.state === 'running' && worker.messageId !== actual.jobId)
          problems.push(`${where}: ${worker.id} message ${worker.messageId} ≠ ${actual.jobId}`);
      }
    };

    const router = new Router().on('work', async (message) => {
      running.add(message.id);
      sample('handler start');
      await sleep(1 + (Number(message.fields.n) % 4));
      sample('handler end');
      running.delete(message.id);
    });
    runtime = createRuntime({
      storage,
      router,
      inspect,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 4, startId: '0', blockMs: 100 }],
    });
    const total = 200;
    for (let n = 0; n < total; n++) await storage.add('s', { type: 'work', n: String(n) });
    const timer = setInterval(() => sample('timer'), 1);
    await runtime.start();
    while (
      (await storage.pending('s', 'g', { count: 1 })).length > 0 ||
      runtime.stats('s/g/c')!.processed < total
    )
      await sleep(5);
    sample('drained');
    clearInterval(timer);
    const snapshot = runtime.snapshot().consumers[0]!;
    await runtime.stop();

    expect(problems).toEqual([]);
    expect(samples).toBeGreaterThan(2 * total);
    expect(snapshot.processed).toBe(total);
    // Every worker worked: it left idle when it started and came back when it had nothing left.
    expect(workers.size).toBe(4);
    for (const ref of workers.values()) expect(workerEvents.get(ref) ?? 0).toBeGreaterThan(0);
    expect(leftIdle).toBeGreaterThanOrEqual(4);
    expect(backToIdle).toBe(leftIdle);
    expect(snapshot.workers.map((w) => w.state)).toEqual(['idle', 'idle', 'idle', 'idle']);
    // What an observer sees of the workers: a bounded number of events per busy period (run in,
    // handler.settled out, their snapshots and actions), none per message inside a busy period.
    const perBusyPeriod = [...workerEvents.values()].reduce((a, b) => a + b, 0) / leftIdle;
    expect(perBusyPeriod).toBeLessThanOrEqual(12);
    expect(allEvents).toBeGreaterThan(0);
  });
});
