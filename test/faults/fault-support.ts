import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Redis } from 'ioredis';
import { Ledger } from '../helpers/ledger.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { testClient } from '../integration/runtime-support.js';
import type { WorkerConfig } from './worker-process.js';

export {
  delay,
  eventually,
  pendingCount,
  publishMany,
  testClient,
  testLogger,
} from '../integration/runtime-support.js';

/**
 * A private redis-server whose data survive SIGKILL: AOF on, `appendfsync always` (every write is on
 * disk before Redis replies), so `kill()` + `restart({ keepData: true })` loses nothing acknowledged.
 */
export function startDurableRedis(): Promise<RedisServer> {
  return startRedisServer({ appendOnly: true, args: ['--appendfsync', 'always'] });
}

/** What a fault scenario runs against: its own redis-server, a client on it, and a fresh ledger. */
export interface FaultContext {
  server: RedisServer;
  /** A test client on `server` (retries forever, errors swallowed): publishes, audits, inspects. */
  admin: Redis;
  ledger: Ledger;
}

/**
 * A test body that runs `scenario` against a private redis-server (from `start`, default
 * `startRedisServer()`), then disconnects the client and stops the server whatever happened.
 *
 * @example
 * it('loses nothing', { timeout: 60_000 }, onPrivateRedis(scenario, startDurableRedis))
 */
export function onPrivateRedis(
  scenario: (context: FaultContext) => Promise<void>,
  start: () => Promise<RedisServer> = startRedisServer,
): () => Promise<void> {
  return async () => {
    const server = await start();
    const admin = testClient(server.url);
    try {
      await scenario({ server, admin, ledger: new Ledger() });
    } finally {
      admin.disconnect();
      await server.stop();
    }
  };
}

/**
 * Read the whole dead-letter stream and record, in the ledger, each entry's source id with its
 * `x-dead-reason`. Resolves reason → source ids.
 */
export async function auditDeadLetters(
  redis: Redis,
  deadStream: string,
  ledger: Ledger,
): Promise<Map<string, string[]>> {
  const byReason = new Map<string, string[]>();
  let start = '-';
  for (;;) {
    const page = (await redis.xrange(deadStream, start, '+', 'COUNT', 500)) as [string, string[]][];
    for (const [, flat] of page) {
      const fields = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
      const id = fields.get('x-source-id');
      const reason = fields.get('x-dead-reason');
      if (id === undefined || reason === undefined || reason === '') continue;
      ledger.deadLettered(id, reason);
      byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
    }
    if (page.length < 500) break;
    start = `(${page[page.length - 1]![0]}`;
  }
  return byReason;
}

/** Ids pending in `group` (every consumer), in id order; [] when the group does not exist. */
export async function pendingIds(redis: Redis, stream: string, group: string, consumer?: string) {
  const ids: string[] = [];
  let start = '-';
  try {
    for (;;) {
      const args: (string | number)[] = [stream, group, start, '+', 1000];
      if (consumer !== undefined) args.push(consumer);
      const page = (await redis.call('XPENDING', ...args)) as [string, string, number, number][];
      for (const [id] of page) ids.push(id);
      if (page.length < 1000) break;
      start = `(${page[page.length - 1]![0]}`;
    }
  } catch (error) {
    if (String(error).includes('NOGROUP') || String(error).includes('no such key')) return ids;
    throw error;
  }
  return ids;
}

/** `heapUsed` after a full garbage collection (gc is exposed on demand, no CLI flag needed). */
export function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A line the worker process wrote (see worker-process.ts). */
export type WorkerLine = { sv: string; [key: string]: unknown };

const WORKER_SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/**
 * A worker-process.ts child: parses its stdout line by line (readline buffers partial lines),
 * records every handled id in the ledger, and keeps the other lines for assertions.
 *
 * @example
 * const worker = startWorker({ url, stream, group, consumers: ['a1', 'a2'] }, ledger)
 * await worker.ready
 * await worker.stop()
 */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: WorkerLine[] = [];
  /** Lines that are not ours (the runtime's default pino logger, stack traces). */
  readonly otherOutput: string[] = [];
  readonly ready: Promise<void>;
  /** Resolves with the exit code (or signal) once the process has exited and its output was read. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #handled = 0;

  constructor(config: WorkerConfig, ledger: Ledger, label = 'worker', options: WorkerOptions = {}) {
    const preload = (options.preload ?? []).flatMap((file) => ['--import', file]);
    this.child = spawn(process.execPath, ['--import', 'tsx', ...preload, WORKER_SCRIPT], {
      env: { ...process.env, SV_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let onReady: () => void = () => {};
    let onFail: (error: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.ready.catch(() => {});
    const out = createInterface({ input: this.child.stdout! });
    const outClosed = new Promise<void>((resolve) => out.once('close', resolve));
    out.on('line', (line) => {
      let parsed: WorkerLine | null = null;
      if (line.startsWith('{"sv":')) {
        try {
          parsed = JSON.parse(line) as WorkerLine;
        } catch {
          parsed = null;
        }
      }
      if (parsed === null) {
        this.otherOutput.push(line);
        return;
      }
      if (parsed.sv === 'handled') {
        this.#handled++;
        ledger.handled(String(parsed.id), String(parsed.by));
        return;
      }
      if (parsed.sv === 'unrouted') {
        ledger.delivered(String(parsed.id));
        return;
      }
      this.lines.push(parsed);
      if (parsed.sv === 'ready') onReady();
      if (parsed.sv === 'start-failed')
        onFail(new Error(`${label} failed to start: ${String(parsed.message)}`));
    });
    const err = createInterface({ input: this.child.stderr! });
    const errClosed = new Promise<void>((resolve) => err.once('close', resolve));
    err.on('line', (line) => this.otherOutput.push(line));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.exited = Promise.all([exit, outClosed, errClosed]).then(([result]) => {
      onFail(
        new Error(`${label} exited (${result.code ?? result.signal}) before it was ready: ${this.tail()}`),
      );
      return result;
    });
  }

  /** Messages this process reported as handled. */
  get handled(): number {
    return this.#handled;
  }

  /** The last lines of other output, for failure messages. */
  tail(n = 20): string {
    return this.otherOutput.slice(-n).join('\n');
  }

  /** SIGTERM (graceful stop), then wait for the exit; SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL and wait until the process is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** How a worker process is started, beyond its `WorkerConfig`. */
export interface WorkerOptions {
  /** Modules loaded with `--import` after tsx, before the worker (e.g. the soak's sabotage preloads). */
  preload?: readonly string[];
}

/** Start a worker-process.ts child (see WorkerProcess). */
export function startWorker(
  config: WorkerConfig,
  ledger: Ledger,
  label?: string,
  options?: WorkerOptions,
): WorkerProcess {
  return new WorkerProcess(config, ledger, label, options);
}

/** Resolves after `ms`, or rejects with `what` when `promise` is not settled by then. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Print the ledger's summary (duplicates are counted and reported, never failed on). */
export function printLedger(name: string, ledger: Ledger): void {
  console.info(`[faults] ${name}: ${ledger.summary()}`);
}

/** A background publisher: `batch` entries `{ type, payload }` every `intervalMs`, ids into the ledger. */
export interface Publisher {
  /** Entries whose XADD failed (Redis down, connection killed); retried with new ids, not recorded. */
  readonly failures: number;
  /** Wait for the batch in flight, then publish nothing until `resume()`. */
  pause(): Promise<void>;
  resume(): void;
  /** Stop for good (waits for the batch in flight). */
  stop(): Promise<void>;
}

/**
 * Publish continuously until stopped. A failed batch is not recorded (an XADD whose reply was lost may
 * have run: its entry is then handled without having been published, see `ledger.report().unexpected`;
 * tests that kill Redis pause the publisher first).
 */
export function startPublisher(
  redis: Redis,
  stream: string,
  ledger: Ledger,
  options: { batch?: number; intervalMs?: number; type?: string } = {},
): Publisher {
  const batch = options.batch ?? 10;
  const intervalMs = options.intervalMs ?? 10;
  let running = true;
  let paused = false;
  let failures = 0;
  let wake: (() => void) | null = null;
  let seq = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  const loop = (async () => {
    while (running) {
      if (paused) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const pipeline = redis.pipeline();
      for (let i = 0; i < batch; i++) {
        pipeline.xadd(stream, '*', 'type', options.type ?? 'job', 'payload', JSON.stringify({ seq: seq++ }));
      }
      const send = async () => {
        try {
          const results = (await pipeline.exec()) ?? [];
          for (const [error, id] of results) {
            if (error) failures++;
            else ledger.published(String(id));
          }
        } catch {
          failures += batch;
        }
      };
      inFlight = send();
      await inFlight;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  let current: Promise<void> = loop;
  return {
    get failures() {
      return failures;
    },
    async pause() {
      paused = true;
      await inFlight;
    },
    resume() {
      paused = false;
      wake?.();
      wake = null;
    },
    async stop() {
      running = false;
      paused = false;
      wake?.();
      await current;
      current = Promise.resolve();
    },
  };
}

/** The commands the runtime sends (src/storage), the minimal ACL of docs/operations.md. */
export const RUNTIME_COMMANDS = [
  'xreadgroup',
  'xack',
  'xpending',
  'xclaim',
  'xautoclaim',
  'xadd',
  'xgroup|create',
  'xinfo|groups',
  'evalsha',
  'eval',
  // The stale-consumer cleanup's script (on by default).
  'xinfo|consumers',
  'xgroup|delconsumer',
];
