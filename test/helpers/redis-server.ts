import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { fileScoped, inATest } from './leak-guard.js';

/** A private `redis-server` a test may kill, pause and restart. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (no credentials, even when started with `--requirepass`). */
  readonly url: string;
  /** Pid of the current process (changes on restart). */
  readonly pid: number;
  /** Kill the server and remove its data directory. Idempotent. */
  stop(): Promise<void>;
  /** Send a signal (default SIGKILL) and wait until the process exited; the data directory stays. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port; with `keepData` (AOF) the data directory is kept. */
  restart(options?: { keepData?: boolean }): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

export interface RedisServerOptions {
  /** `--appendonly yes` (needed for `restart({ keepData: true })`). @default false */
  appendOnly?: boolean;
  /** Extra arguments, e.g. `['--requirepass', 'secret']`. */
  args?: string[];
}

const running = new Set<ChildProcess>();

function killAllSync(): void {
  for (const child of running) {
    try {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

// A test that forgets stop() must not leave a redis-server behind: kill them all when the test file
// ends (this module is evaluated while vitest collects the file) and, as a last resort, on exit.
process.once('exit', killAllSync);
try {
  afterAll(killAllSync);
} catch {
  // imported outside a vitest collection (a script): the exit hook still applies
}

/** A free TCP port on 127.0.0.1, as the OS picks it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when something on `port` answers PING with `+PONG` or an auth error. */
async function waitForPing(port: number, child: ChildProcess, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited early (${child.exitCode ?? child.signalCode})`);
    }
    const answer = await new Promise<string>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let data = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        data += chunk.toString();
        if (data.includes('\r\n')) socket.end();
      });
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(''));
    });
    if (answer.startsWith('+PONG') || answer.startsWith('-NOAUTH')) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Spawn `redis-server --port <free> --bind 127.0.0.1 --save "" --appendonly yes|no --dir <tmp>` and
 * wait until it answers PING. Every server is killed when the test file ends, even without `stop()`.
 *
 * @example
 * const server = await startRedisServer({ args: ['--requirepass', 'secret'] })
 * afterAll(() => server.stop())
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  // A server started outside a test (beforeAll) may be restarted by a test and still belong to the file.
  const ownedByFile = !inATest();
  let dir = mkdtempSync(join(tmpdir(), 'sv-redis-'));
  let child: ChildProcess | null = null;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly'];
    args.push(options.appendOnly ? 'yes' : 'no', '--dir', dir, ...(options.args ?? []));
    const next = spawn('redis-server', args, { stdio: 'ignore' });
    if (ownedByFile) fileScoped(next);
    child = next;
    running.add(next);
    next.once('exit', () => running.delete(next));
    await waitForPing(port, next);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const current = child;
    if (current === null) return;
    current.kill('SIGCONT'); // a paused server handles SIGTERM only once it runs again
    current.kill(signal);
    await exited(current);
    child = null;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? -1;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    kill,
    async restart({ keepData = false } = {}) {
      if (stopped) throw new Error('Cannot restart a stopped redis-server; start a new one');
      await kill('SIGTERM');
      if (!keepData) {
        rmSync(dir, { recursive: true, force: true });
        dir = mkdtempSync(join(tmpdir(), 'sv-redis-'));
      }
      await launch();
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}
