import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One pino JSON line a child process wrote to stdout. */
export interface LogLine {
  msg?: string;
  level?: number;
  messageId?: string;
  [key: string]: unknown;
}

/** How a child process ended: its exit code, or the signal that ended it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A TypeScript script running as its own process (see `spawnTsx`). */
export interface TsxChild {
  readonly child: ChildProcess;
  /** Every stdout line that parsed as JSON, in order. */
  readonly lines: LogLine[];
  /** Every stdout line that did not parse as JSON, in order. */
  readonly other: string[];
  /** Resolves once the process has exited. */
  readonly exited: Promise<ChildExit>;
  /** All stderr so far. */
  stderr(): string;
  /** Resolves with the matching lines once `count` of them were logged; rejects after `timeoutMs`. */
  waitForLines(match: (line: LogLine) => boolean, count: number, timeoutMs: number): Promise<LogLine[]>;
  /** Resolves with the first matching line once it was logged; rejects after `timeoutMs`. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** Sends SIGTERM; resolves how it exited, or `null` when it did not exit within `timeoutMs`. */
  terminate(timeoutMs: number): Promise<ChildExit | null>;
  /** True until the process has exited. */
  isRunning(): boolean;
  /** SIGKILLs the process if it is still running and waits for it to exit (for `finally`). */
  kill(): Promise<void>;
}

/**
 * Runs `script` with `node --import tsx` and `env` added to this process's environment, parsing its
 * stdout into pino JSON lines and keeping its stderr for failure messages.
 *
 * @example
 * const app = spawnTsx(fileURLToPath(new URL('./main.ts', import.meta.url)), { REDIS_URL: url })
 * await app.waitForLine((line) => line.msg === 'ready', 10_000)
 * expect(await app.terminate(5000)).toEqual({ code: 0, signal: null })
 */
export function spawnTsx(script: string, env: Record<string, string>): TsxChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const other: string[] = [];
  let waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      other.push(text);
    }
    for (const wake of waiters) wake();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const waitForLines = (match: (line: LogLine) => boolean, count: number, timeoutMs: number) =>
    new Promise<LogLine[]>((resolve, reject) => {
      const check = () => {
        const found = lines.filter(match);
        if (found.length < count) return;
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== check);
        reject(new Error(`Timed out waiting for ${count} log line(s); stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      waiters.push(check);
      check();
    });
  return {
    child,
    lines,
    other,
    exited,
    stderr: () => stderr,
    waitForLines,
    waitForLine: async (match, timeoutMs) => (await waitForLines(match, 1, timeoutMs))[0]!,
    terminate: async (timeoutMs) => {
      child.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        return await Promise.race([
          exited,
          new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    isRunning,
    kill: async () => {
      if (!isRunning()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * For `afterEach`: fails when the child of a test is still running (it must exit by itself), after
 * SIGKILLing it so one leaking test does not break the next. `null` passes.
 *
 * @example
 * afterEach(() => expectExited(running, 'The example process'))
 */
export function expectExited(running: TsxChild | null, what: string): void {
  if (running?.isRunning()) {
    running.child.kill('SIGKILL');
    throw new Error(`${what} was still running after the test`);
  }
}
