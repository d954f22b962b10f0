// Counts what an XState inspection observer sees per message and per worker busy period.
// npx tsx scripts/count-inspection-events.ts [messages] [concurrency] [handlerMs] [--one-by-one]
// The messages are queued before start (load), or with --one-by-one published after start, each once
// the previous one was handled (light traffic: every message is its own read and busy period).
import { parseArgs } from 'node:util';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createRuntime, MemoryStreamStorage, Router } from '../src/index.js';

const { values, positionals } = parseArgs({
  options: { 'one-by-one': { type: 'boolean', default: false } },
  allowPositionals: true,
});
const oneByOne = values['one-by-one'] === true;
const [total = 2000, concurrency = 4, handlerMs = 0] = positionals.map(Number);
const storage = new MemoryStreamStorage();
const byType = new Map<string, number>();
const workerByType = new Map<string, number>();
let busyPeriods = 0;
const last = new Map<AnyActorRef, string>();
const inspect = (event: InspectionEvent) => {
  byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
  const ref = event.actorRef as AnyActorRef;
  if (!/^w\d+$/.test(ref.id)) return;
  workerByType.set(event.type, (workerByType.get(event.type) ?? 0) + 1);
  if (event.type === '@xstate.snapshot') {
    const value = String((event.snapshot as unknown as { value: unknown }).value);
    if ((last.get(ref) ?? 'idle') === 'idle' && value !== 'idle') busyPeriods++;
    last.set(ref, value);
  }
};
const router = new Router().on('work', () =>
  handlerMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, handlerMs)) : undefined,
);
if (!oneByOne) for (let n = 0; n < total; n++) await storage.add('s', { type: 'work', n: String(n) });
const runtime = createRuntime({
  storage,
  router,
  consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency, startId: '0', blockMs: 50 }],
});
// Counted from after start: the observer attaches to the running system.
await runtime.start();
runtime.inspect(inspect);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
if (oneByOne)
  for (let n = 0; n < total; n++) {
    await storage.add('s', { type: 'work', n: String(n) });
    while (runtime.stats('s/g/c')!.processed <= n) await sleep(1);
  }
while (runtime.stats('s/g/c')!.processed < total) await sleep(5);
await runtime.stop();
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const all = sum(byType);
const workers = sum(workerByType);
const out = {
  messages: total,
  concurrency,
  handlerMs,
  oneByOne,
  events: all,
  eventsPerMessage: +(all / total).toFixed(2),
  workerEvents: workers,
  workerEventsPerMessage: +(workers / total).toFixed(2),
  busyPeriods,
  messagesPerBusyPeriod: +(total / Math.max(1, busyPeriods)).toFixed(1),
  workerEventsPerBusyPeriod: +(workers / Math.max(1, busyPeriods)).toFixed(1),
  byType: Object.fromEntries(byType),
  workerByType: Object.fromEntries(workerByType),
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
