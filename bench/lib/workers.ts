/**
 * Worker processes of the scale cases: each is forked with tsx and an IPC channel, gets its config as
 * JSON in one environment variable, sends `{ type: 'ready' }` once it is blocked reading, and answers
 * `{ type: 'stop' }` with `{ type: 'done', calls, checksum, … }` before it exits.
 */
import { type ChildProcess, fork } from 'node:child_process';

/** What every worker reports when it stops: handler calls and the sum of the handled indexes. */
export interface WorkerDone {
  type: 'done';
  calls: number;
  checksum: number;
}

/** Forks `script` through tsx with `config` as JSON in `env[envName]`; stdout and stderr are inherited. */
export function forkWorker(script: string, envName: string, config: object): ChildProcess {
  return fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [envName]: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * The next IPC message of `type` from `child`; rejects when it exits first or after `timeoutMs`.
 * `label` names the worker in the error (`scale worker`).
 */
export function nextMessage<T extends { type: string }>(
  child: ChildProcess,
  type: T['type'],
  timeoutMs: number,
  label: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} sent no "${type}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: T): void => {
      if (message.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${label} exited with ${code} before "${type}"`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Sends `stop` to every worker and resolves their `done` reports, in order. Throws (prefixed with
 * `what`) unless the workers together made exactly `n` handler calls over the indexes 0 … n-1.
 */
export async function stopWorkers<T extends WorkerDone>(
  children: readonly ChildProcess[],
  n: number,
  label: string,
  what: string,
): Promise<T[]> {
  const done = await Promise.all(
    children.map((child) => {
      const reply = nextMessage<T>(child, 'done', 30_000, label);
      child.send({ type: 'stop' });
      return reply;
    }),
  );
  const calls = done.reduce((sum, d) => sum + d.calls, 0);
  const checksum = done.reduce((sum, d) => sum + d.checksum, 0);
  if (calls !== n || checksum !== (n * (n - 1)) / 2) {
    throw new Error(`${what}: ${calls} handler calls for ${n} messages (checksum ${checksum})`);
  }
  return done;
}

/** SIGKILLs every worker that has not exited (for `finally`). */
export function killWorkers(children: readonly ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
