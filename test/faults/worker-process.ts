/**
 * A consumer process for the fault tests and the soak: runs one runtime configured by the JSON in
 * `SV_WORKER` (see `WorkerConfig`) and reports on stdout, one JSON object per line, each with an
 * `sv` key (other lines, e.g. the runtime's default pino logger, are the runtime's own output):
 *
 * - `{"sv":"ready"}` once every consumer reads;
 * - `{"sv":"handled","id":"…","by":"<consumer>"}` for every message a handler finished, written
 *   (synchronously: stdout is a pipe) BEFORE the handler returns, so an acked message is always reported;
 * - `{"sv":"unrouted","id":"…"}` for every message of an unknown type the runtime acked without a
 *   handler (from its debug log record `unrouted message acked`), so the soak counts an unrouted id as
 *   acked only once it was delivered;
 * - `{"sv":"event",…}` for restarts, backoffs, exits and failure; `{"sv":"fatal","message":…}` from onFatal;
 * - `{"sv":"done","status":…}` when the runtime ended, and `{"sv":"resources","when":…,"active":[…]}`
 *   (process.getActiveResourcesInfo()) at that point and again on `beforeExit`.
 *
 * SIGTERM stops the runtime gracefully (`stopTimeoutMs`); the process then exits on its own: nothing
 * here calls process.exit, so a handle the runtime leaks keeps it alive and the parent notices.
 * Started as `node --import tsx test/faults/worker-process.ts` (see fault-support.ts).
 */
import { pino } from 'pino';
import { createRuntime, publish, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';

export interface WorkerConfig {
  url: string;
  stream: string;
  group: string;
  /** Consumer names; one supervised consumer each. */
  consumers: string[];
  concurrency?: number;
  blockMs?: number;
  /** Handler time: a fixed number of ms, or [min, max] picked at random. @default 0 */
  handlerMs?: number | [number, number];
  claim?: { minIdleMs?: number; intervalMs?: number };
  supervisor?: { maxRestarts?: number; periodMs?: number; backoff?: { minMs?: number; maxMs?: number } };
  watchdogMarginMs?: number;
  stopTimeoutMs?: number;
  /** The type handled; every other type is unrouted. @default 'job' */
  type?: string;
  /**
   * Write one output per message to `stream` (type `done`, header `x-source-id`: the message's id),
   * before the handler's pause: with the ack (`ctx.publish`) or at once (`publish()`). @default none
   */
  output?: { stream: string; via: 'ctx.publish' | 'publish' };
}

const config = JSON.parse(process.env.SV_WORKER ?? '{}') as WorkerConfig;

function say(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ sv: record.sv, ...record })}\n`);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

const handlerMs = config.handlerMs ?? 0;
const router = new Router();
router.on(config.type ?? 'job', async (message, ctx) => {
  const output = config.output;
  if (output !== undefined) {
    const headers = { 'x-source-id': message.id };
    if (output.via === 'ctx.publish') ctx.publish(output.stream, 'done', {}, { headers });
    else await publish(storage, output.stream, 'done', {}, { headers });
  }
  const ms = Array.isArray(handlerMs)
    ? handlerMs[0] + Math.floor(Math.random() * (handlerMs[1] - handlerMs[0] + 1))
    : handlerMs;
  if (ms > 0) await pause(ms, ctx.signal);
  // ctx.log is a child of the consumer's logger: its bindings name the consumer that ran the handler.
  say({ sv: 'handled', id: message.id, by: String(ctx.log.bindings().consumer ?? 'unknown') });
});

/**
 * The runtime's log at level debug, to see `unrouted message acked` (one record per unknown-type
 * message); every other record below warn is dropped, warn and above are written as the default
 * logger would.
 */
const logger = pino(
  { level: 'debug', name: 'streamvisor' },
  {
    write(line: string) {
      const record = JSON.parse(line) as { level: number; msg?: string; messageId?: string };
      if (record.msg === 'unrouted message acked') say({ sv: 'unrouted', id: record.messageId });
      else if (record.level >= 40) process.stdout.write(line);
    },
  },
);

const storage = RedisStreamStorage.fromUrl(config.url, {
  ...(config.watchdogMarginMs === undefined ? {} : { watchdogMarginMs: config.watchdogMarginMs }),
});
const runtime = createRuntime({
  storage,
  router,
  logger,
  consumers: config.consumers.map((consumer) => ({
    stream: config.stream,
    group: config.group,
    consumer,
    id: consumer,
    concurrency: config.concurrency ?? 8,
    blockMs: config.blockMs ?? 500,
    ...(config.claim ? { claim: config.claim } : {}),
  })),
  ...(config.supervisor ? { supervisor: config.supervisor } : {}),
  onFatal: (error) => say({ sv: 'fatal', message: error.message }),
});
const REPORTED = new Set<RuntimeEvent['type']>([
  'consumer.backoff',
  'consumer.exited',
  'consumer.restarted',
  'consumer.group-created',
  'runtime.failed',
]);
runtime.subscribe((event) => {
  if (REPORTED.has(event.type)) say({ sv: 'event', event });
});

let exitReported = false;
process.on('beforeExit', () => {
  if (exitReported) return;
  exitReported = true;
  say({ sv: 'resources', when: 'beforeExit', active: process.getActiveResourcesInfo() });
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void runtime.stop({ timeoutMs: config.stopTimeoutMs ?? 2000 }).then(() => say({ sv: 'stopped' }));
});

void runtime.done.then(() => {
  say({ sv: 'done', status: runtime.status });
  // Let the runtime's own closing (connections, timers) run before looking at what is still open.
  setImmediate(() => say({ sv: 'resources', when: 'done', active: process.getActiveResourcesInfo() }));
});

runtime.start().then(
  () => say({ sv: 'ready' }),
  (error: unknown) => say({ sv: 'start-failed', message: String(error) }),
);
