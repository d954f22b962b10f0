import { execFileSync } from 'node:child_process';

/** The part of a `Runtime` the guard needs (any `Runtime<C>` fits). */
export interface TrackedRuntime {
  readonly status: string;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

const tracked = new Set<TrackedRuntime>();

/**
 * Register a runtime so `expectNoLeaks()` can check it was stopped. Returns it.
 *
 * @example
 * const runtime = trackRuntime(createRuntime({ … }))
 * afterEach(() => expectNoLeaks())
 */
export function trackRuntime<R extends TrackedRuntime>(runtime: R): R {
  tracked.add(runtime);
  return runtime;
}

/** Pids of `redis-server` processes that are children of this test process. */
export function redisServerChildren(): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there is no child at all
  }
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'redis-server')
    .map(([pid]) => Number(pid));
}

/**
 * The leak guard, for `afterEach`: fails when a tracked runtime is not `stopped` (or `failed`) or a
 * `redis-server` child is still running. It stops leftover runtimes first, so one leaking test does
 * not break the next, then throws naming what leaked.
 */
export async function expectNoLeaks(): Promise<void> {
  const leaked = [...tracked].filter((r) => r.status !== 'stopped' && r.status !== 'failed');
  const states = leaked.map((r) => r.status);
  await Promise.allSettled(leaked.map((r) => r.stop({ timeoutMs: 100 })));
  tracked.clear();
  const servers = redisServerChildren();
  const problems: string[] = [];
  if (leaked.length > 0) problems.push(`${leaked.length} runtime(s) left running (${states.join(', ')})`);
  if (servers.length > 0) problems.push(`redis-server children still running: ${servers.join(', ')}`);
  if (problems.length > 0) throw new Error(`Leak guard: ${problems.join('; ')}`);
}
