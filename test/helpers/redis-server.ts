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
  /** The cluster bus port (`--cluster-port`), with `clusterBus: true`; else `null`. */
  readonly busPort: number | null;
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
  /** Pick a cluster bus port too (`--cluster-port`), re-picked with the port when a bind fails. @default false */
  clusterBus?: boolean;
  /** Where ports come from (tests of this helper hand out a taken one). @default freePort */
  pickPort?: () => Promise<number>;
}

/** Tries at binding fresh ports before giving up: another process may take a port between the pick and the bind. */
const BIND_ATTEMPTS = 5;
/** What redis-server says when a port it was given is taken. */
const BIND_FAILED = /Address already in use|Failed listening on port|Could not create server/i;
/** The last bytes of a server's output kept for error messages. */
const OUTPUT_KEPT = 4000;

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

/** Why a server did not come up, with its own last words (stdout and stderr: it logs to stdout). */
class RedisStartError extends Error {
  override name = 'RedisStartError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}; redis-server said:\n${output.trim() || '(nothing)'}`);
  }

  /** The port (or bus port) was taken between the pick and the bind: worth a try on other ports. */
  get bindFailed(): boolean {
    return BIND_FAILED.test(this.output);
  }
}

/**
 * Resolves when our own child says it is ready and `port` answers PING with `+PONG` or an auth
 * error. Its log line is the proof that the answer is ours: the port may have been taken by
 * another server between the pick and the bind.
 */
async function waitForPing(
  port: number,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new RedisStartError(
        `redis-server on port ${port} exited early (${child.exitCode ?? child.signalCode})`,
        output(),
      );
    }
    if (!output().includes('Ready to accept connections')) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      continue;
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
  throw new RedisStartError(
    `redis-server on port ${port} did not answer PING within ${timeoutMs} ms`,
    output(),
  );
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
  const pickPort = options.pickPort ?? freePort;
  let port = 0;
  let busPort: number | null = null;
  // A server started outside a test (beforeAll) may be restarted by a test and still belong to the file.
  const ownedByFile = !inATest();
  let dir = mkdtempSync(join(tmpdir(), 'sv-redis-'));
  let child: ChildProcess | null = null;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly'];
    args.push(options.appendOnly ? 'yes' : 'no', '--dir', dir);
    if (busPort !== null) args.push('--cluster-port', String(busPort));
    args.push(...(options.args ?? []));
    const next = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
    };
    next.stdout?.on('data', keep);
    next.stderr?.on('data', keep);
    if (ownedByFile) fileScoped(next);
    child = next;
    running.add(next);
    next.once('exit', () => running.delete(next));
    try {
      await waitForPing(port, next, () => output);
    } catch (error) {
      next.kill('SIGKILL');
      await exited(next);
      child = null;
      throw error;
    }
  };

  // freePort() closes the port before redis-server binds it, so another process may take it (or the
  // bus port) in between: on a bind failure, pick new ports and try again.
  for (let attempt = 1; ; attempt++) {
    port = await pickPort();
    busPort = options.clusterBus ? await pickPort() : null;
    try {
      await launch();
      break;
    } catch (error) {
      if (!(error instanceof RedisStartError && error.bindFailed) || attempt >= BIND_ATTEMPTS) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const current = child;
    if (current === null) return;
    current.kill('SIGCONT'); // a paused server handles SIGTERM only once it runs again
    current.kill(signal);
    await exited(current);
    child = null;
  };

  return {
    port,
    busPort,
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
