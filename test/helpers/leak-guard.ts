import { ChildProcess } from 'node:child_process';
import { Server } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { Actor, type AnyActorRef } from 'xstate';

// The leak guard, installed for every test file by test/helpers/setup.ts (vitest `setupFiles`). It
// records what a test opens, by patching the constructors' prototypes and the global timer functions:
//
// - XState root actors (`Actor.prototype.start` without a parent; a runtime's supervisor is one):
//   open while running and not done;
// - timers (`setTimeout`, `setInterval` on `globalThis`): open until they fired (timeouts) or were
//   cleared, unref'd or not;
// - connections: ioredis clients (`Redis`, `Cluster`: open until `disconnect()`/`quit()` or `end`)
//   and listening servers (`net.Server`, so HTTP servers too);
// - child processes (`ChildProcess.prototype.spawn`, so spawn/exec/fork): open until they exited.
//
// After each test (its own `afterEach` hooks included), anything opened since the test began and still
// open fails the test with what it is and where it was opened; after the file, anything still open
// from `beforeAll`/module level fails the file. The guard then closes what it found (stops actors and
// runtimes, clears timers, disconnects clients, closes servers, SIGKILLs children), so one leaking test
// does not break the next.

type Kind = 'actor' | 'timer' | 'redis' | 'server' | 'child' | 'runtime';

interface Opened {
  kind: Kind;
  what: string;
  /** Where it was opened: the first stack frames outside this file and node_modules. */
  at: string;
  /** Opened while a test ran (else during collection or `beforeAll`). */
  inTest: boolean;
  /** The object opened (for `fileScoped`). */
  owner?: object;
  isOpen(): boolean;
  close(): unknown;
}

/** The part of a `Runtime` the guard needs (any `Runtime<C>` fits). */
export interface TrackedRuntime {
  readonly status: string;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

const opened = new Set<Opened>();
/** The guard's own waits use the real timer (installed patches would record them). */
const realSetTimeout = globalThis.setTimeout;
let inTest = false;
let installed = false;

const ROOT = process.cwd();

/** The first stack frames in this repository (not node_modules, not this file), or `` when none. */
function callSite(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(2);
  const ours = frames.filter(
    (f) => f.includes(ROOT) && !f.includes('node_modules') && !f.includes('leak-guard'),
  );
  return ours
    .slice(0, 3)
    .map((f) => f.trim().replace(/^at /, '').replace(`${ROOT}/`, ''))
    .join(' < ');
}

/** Whether the function that called the patched timer function is code of this repository. */
function armedByUs(): boolean {
  // [0] "Error", [1] armedByUs, [2] the patched timer function, [3] its caller.
  const caller = (new Error().stack ?? '').split('\n')[3] ?? '';
  return caller.includes(ROOT) && !caller.includes('node_modules');
}

function record(entry: Omit<Opened, 'at' | 'inTest'>): Opened {
  const full = { ...entry, at: callSite() || '(no frame of this repository)', inTest };
  opened.add(full);
  return full;
}

/**
 * Register a runtime so the guard can check it was stopped (and stop it if not). Its actors are
 * tracked anyway; this names the leak and stops it through `stop()`. Returns it.
 *
 * @example
 * const runtime = trackRuntime(createRuntime({ … }))
 */
export function trackRuntime<R extends TrackedRuntime>(runtime: R): R {
  record({
    owner: runtime,
    kind: 'runtime',
    what: 'runtime',
    isOpen: () => runtime.status !== 'stopped' && runtime.status !== 'failed',
    close: () => runtime.stop({ timeoutMs: 100 }),
  });
  return runtime;
}

function patchActors(): void {
  const start = Actor.prototype.start;
  Actor.prototype.start = function patchedStart(this: Actor<never>) {
    const actor = this as unknown as AnyActorRef & {
      _processingStatus: number;
      logic?: { config?: { id?: string } };
    };
    if (actor._parent === undefined && actor._processingStatus === 0) {
      record({
        owner: actor,
        kind: 'actor',
        what: `actor ${actor.id} (${actor.logic?.config?.id ?? actor.src ?? 'logic'})`,
        // 1 = running; a root actor that reached a final state stops processing by itself.
        isOpen: () => actor._processingStatus === 1 && actor.getSnapshot().status === 'active',
        close: () => actor.stop(),
      });
    }
    return start.call(this) as never;
  } as typeof start;
}

type TimerFn = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => NodeJS.Timeout;

function patchTimers(): void {
  const live = new Map<NodeJS.Timeout, Opened>();
  const wrap = (name: 'setTimeout' | 'setInterval', once: boolean) => {
    const real = globalThis[name] as unknown as TimerFn;
    const patched = function patchedTimer(callback: unknown, ms?: number, ...args: unknown[]) {
      if (typeof callback !== 'function') return real(callback as never, ms, ...args);
      let entry: Opened | undefined;
      const timer = real(
        (...callArgs: unknown[]) => {
          if (once && entry !== undefined) {
            opened.delete(entry);
            live.delete(timer);
          }
          (callback as (...a: unknown[]) => void)(...callArgs);
        },
        ms,
        ...args,
      );
      // Only timers our code arms itself: those of a library (ioredis' reconnect and close timers,
      // undici's keep-alive after a fetch) are the library's business, and its connections are
      // tracked as connections.
      if (!armedByUs()) return timer;
      entry = record({
        kind: 'timer',
        what: `${name}(…, ${ms ?? 0})`,
        isOpen: () => !(timer as unknown as { _destroyed: boolean })._destroyed,
        close: () => clearTimeout(timer),
      });
      live.set(timer, entry);
      return timer;
    };
    // Keep util.promisify(setTimeout) (its promisify.custom) and the like working.
    Object.defineProperties(patched, Object.getOwnPropertyDescriptors(real));
    globalThis[name] = patched as never;
  };
  wrap('setTimeout', true);
  wrap('setInterval', false);
  for (const name of ['clearTimeout', 'clearInterval'] as const) {
    const real = globalThis[name];
    globalThis[name] = function patchedClear(timer: NodeJS.Timeout | string | number | undefined) {
      real(timer);
      if (timer === undefined || timer === null) return;
      const found =
        typeof timer === 'object' ? timer : [...live.keys()].find((t) => Number(t) === Number(timer));
      if (found === undefined) return;
      const entry = live.get(found);
      live.delete(found);
      if (entry !== undefined) opened.delete(entry);
    } as typeof real;
  }
}

/** Clusters seen: their node clients are opened and closed by the Cluster, not by a test. */
const clusters = new Set<Cluster>();

function clusterNode(client: unknown): boolean {
  for (const cluster of clusters) if (cluster.nodes('all').includes(client as Redis)) return true;
  return false;
}

function patchRedis(): void {
  for (const Client of [Redis, Cluster] as const) {
    const connect = Client.prototype.connect;
    const name = Client === Redis ? 'ioredis client' : 'ioredis Cluster';
    Client.prototype.connect = function patchedConnect(this: { disconnect(): void }, ...args: never[]) {
      const client = this as unknown as { status: string; manuallyClosing?: boolean };
      // connect() runs again on a reconnect by hand; record a client once.
      const marked = client as { __leakGuard?: boolean };
      if (!marked.__leakGuard) {
        marked.__leakGuard = true;
        if (Client === Cluster) clusters.add(this as unknown as Cluster);
        record({
          owner: this,
          kind: 'redis',
          what: name,
          isOpen: () => client.status !== 'end' && client.manuallyClosing !== true && !clusterNode(client),
          close: () => this.disconnect(),
        });
      }
      return (connect as (...a: never[]) => Promise<void>).apply(this, args);
    } as never;
  }
}

function patchServers(): void {
  const listen = Server.prototype.listen;
  Server.prototype.listen = function patchedListen(this: Server, ...args: unknown[]) {
    record({
      owner: this,
      kind: 'server',
      what: 'listening server',
      isOpen: () => this.listening,
      close: () => new Promise((resolve) => this.close(() => resolve(undefined))),
    });
    return (listen as (...a: unknown[]) => Server).apply(this, args);
  } as typeof listen;
}

interface SpawnOptions {
  file: string;
  args?: string[];
}

function patchChildren(): void {
  // Every spawn/exec/fork goes through ChildProcess.prototype.spawn (not in @types/node).
  const proto = ChildProcess.prototype as unknown as {
    spawn(this: ChildProcess, options: SpawnOptions): unknown;
  };
  const spawn = proto.spawn;
  proto.spawn = function patchedSpawn(this: ChildProcess, options: SpawnOptions) {
    const result = spawn.call(this, options);
    const command = [options.file, ...(options.args ?? []).slice(1, 4)].join(' ');
    record({
      owner: this,
      kind: 'child',
      what: `child process ${this.pid} (${command})`,
      isOpen: () => this.exitCode === null && this.signalCode === null && this.pid !== undefined,
      close: () => {
        this.kill('SIGCONT');
        this.kill('SIGKILL');
      },
    });
    return result;
  };
}

/**
 * Move what `owner` opened (a child process, a client, a server, an actor) to the file's scope: it is
 * then checked when the file ends, not after the test that happened to open it. For fixtures that
 * outlive a test by design, e.g. a file-level redis-server restarted by one test.
 *
 * @example
 * fileScoped(child) // in test/helpers/redis-server.ts, for a server started in beforeAll
 */
export function fileScoped(owner: object): void {
  for (const e of opened) if (e.owner === owner) e.inTest = false;
}

/** Whether a test is running now (else: collection, beforeAll, afterAll). */
export function inATest(): boolean {
  return inTest;
}

let wholeFile = false;

/**
 * Check this test file only when it ends, not after each test: for files whose fixtures (a browser
 * page, a dashboard, a runtime) are shared by their tests and open things on their behalf. Call at
 * the top level of the file.
 */
export function checkLeaksAtFileEnd(): void {
  wholeFile = true;
}

/** Patch what the guard watches; idempotent. Called by test/helpers/setup.ts. */
export function installLeakGuard(): void {
  if (installed) return;
  installed = true;
  patchActors();
  patchTimers();
  patchRedis();
  patchServers();
  patchChildren();
}

/** For the setup file's `beforeEach`: what is opened from now on belongs to the test. */
export function beginTest(): void {
  inTest = !wholeFile;
}

const KIND_ORDER: Kind[] = ['runtime', 'actor', 'server', 'redis', 'child', 'timer'];

/**
 * Wait a little (≤ ~0.5 s) for what is closing by itself: a child that was sent SIGKILL, a client
 * ending, a server that has yet to see an aborted request's socket close.
 */
async function settled(entries: Opened[]): Promise<Opened[]> {
  for (let i = 0; i < 20; i++) {
    const open = entries.filter((e) => e.isOpen());
    if (open.length === 0) return open;
    await new Promise((resolve) => setImmediate(resolve));
    if (i >= 2) await new Promise((resolve) => realSetTimeout(resolve, 25).unref());
  }
  return entries.filter((e) => e.isOpen());
}

async function check(scope: 'test' | 'file'): Promise<void> {
  const candidates = [...opened].filter((e) => (scope === 'test' ? e.inTest : true));
  for (const e of candidates) if (!e.isOpen()) opened.delete(e);
  const leaked = await settled(candidates.filter((e) => opened.has(e)));
  for (const e of candidates) if (!leaked.includes(e)) opened.delete(e);
  if (leaked.length === 0) return;
  leaked.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  // Close in that order: runtimes and actors first (they clear their own timers and connections).
  for (const e of leaked) {
    try {
      await e.close();
    } catch {
      // best effort: the failure below names it
    }
    opened.delete(e);
  }
  const lines = leaked.map((e) => `  - ${e.what}, opened at ${e.at}`);
  const where = scope === 'test' ? 'the test' : 'the file (beforeAll or module level)';
  throw new Error(
    `Leak guard: ${leaked.length} thing(s) opened by ${where} still open:\n${lines.join('\n')}`,
  );
}

/**
 * The per-test check, run by the setup file's `afterEach` (after the test file's own hooks): fails
 * when something opened since the test began is still open, after closing it. Test files may also
 * call it in their own `afterEach` (the check is idempotent).
 */
export async function expectNoLeaks(): Promise<void> {
  try {
    await check('test');
  } finally {
    // Whatever was not checked (opened by a hook after this call) is checked at the file's end.
    for (const e of opened) if (e.inTest) e.inTest = false;
    inTest = false;
  }
}

/** The per-file check, run by the setup file's `afterAll`. */
export function expectNoFileLeaks(): Promise<void> {
  return check('file');
}
