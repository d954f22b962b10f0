// The `streamvisor` CLI as the last-but-one command of a pipe (`| head`): a reader that closes early
// ends the command quietly with exit 0. Also `dlq replay --all --yes` and help texts ending with a
// newline (issue 13, point 10).
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStreamStorage } from '../../src/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', 'src/cli/main.ts'];
const ENV = { ...process.env, REDIS_URL: sharedRedisUrl() };

interface Piped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  received: string;
}

/**
 * Run the CLI with stdout into a reader that closes early: `at-once`, before anything was written
 * (`| (exec 0<&-)`), or after its first chunk (`| head -c 1`).
 */
function pipedIntoEarlyClose(args: string[], when: 'at-once' | 'after-first-chunk'): Promise<Piped> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env: ENV });
    let stderr = '';
    let received = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    if (when === 'at-once') child.stdout.destroy();
    else
      child.stdout.setEncoding('utf8').once('data', (chunk: string) => {
        received = chunk;
        child.stdout.destroy();
      });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, received });
    });
  });
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env: ENV, timeout: 15_000 }, (e, o, s) =>
      resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, stdout: o, stderr: s }),
    );
  });
}

const prefix = uniquePrefix();
const stream = `${prefix}:orders`;
const dead = `${stream}:dead`;
let storage: RedisStreamStorage;

beforeAll(async () => {
  storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  // Enough dead letters that `dlq list --json` writes far more than a pipe buffer (64 KiB).
  for (let i = 0; i < 400; i++) {
    await storage.add(dead, {
      type: 'order.paid',
      payload: JSON.stringify({ orderId: i, note: 'x'.repeat(200) }),
      'x-dead-reason': i % 2 === 0 ? 'handler-error' : 'non-retryable',
      'x-dead-error': 'card declined',
      'x-source-stream': stream,
      'x-source-id': `${i + 1}-0`,
      'x-group': 'billing',
      'x-deliveries': '1',
      'x-dead-at': String(Date.now()),
    });
  }
});

afterAll(async () => {
  await storage.close();
  await cleanupKeys(prefix);
});

const noStackTrace = (stderr: string) => {
  expect(stderr).not.toMatch(/EPIPE|\n\s+at |Unhandled/);
  expect(stderr).toBe('');
};

describe('streamvisor in a pipe whose reader closes early', () => {
  it.each([
    [['--help'], 'at-once'],
    [['dlq', 'list', '--stream', stream, '--json'], 'at-once'],
    [['dlq', 'list', '--stream', stream], 'at-once'],
    [['tail', '--stream', dead, '--from', '0', '--json'], 'after-first-chunk'],
  ] as const)('%j, reader closed %s: exits 0 without a stack trace', async (args, when) => {
    const result = await pipedIntoEarlyClose([...args], when);
    if (when === 'after-first-chunk') expect(result.received.length).toBeGreaterThan(0);
    noStackTrace(result.stderr);
    expect(result).toMatchObject({ code: 0, signal: null });
  });
});

describe('streamvisor dlq replay --yes and help texts (issue 13, point 10)', () => {
  it('dlq replay --all --yes replays every dead letter (exit 0)', async () => {
    const other = `${prefix}:yes`;
    await storage.add(`${other}:dead`, {
      type: 'a',
      'x-dead-reason': 'handler-error',
      'x-source-stream': other,
    });
    await storage.add(`${other}:dead`, {
      type: 'b',
      'x-dead-reason': 'non-retryable',
      'x-source-stream': other,
    });
    const result = await cli(['dlq', 'replay', '--stream', other, '--all', '--yes', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveLength(2);
    expect(await storage.length(`${other}:dead`)).toBe(0);
    expect((await storage.range(other)).map((e) => e.fields.type)).toEqual(['a', 'b']);
  });

  it('every --help ends with one newline', async () => {
    const paths = [[], ['status'], ['dlq'], ['dlq', 'list'], ['dlq', 'show'], ['dlq', 'replay']];
    paths.push(['dlq', 'purge'], ['tail'], ['publish'], ['demo']);
    // Two at a time: ten tsx processes at once on a 2-core box ran past the child timeout.
    for (let i = 0; i < paths.length; i += 2) {
      const batch = paths.slice(i, i + 2);
      const results = await Promise.all(batch.map((path) => cli([...path, '--help'])));
      for (const [j, result] of results.entries()) {
        expect(result.code, batch[j]?.join(' ')).toBe(0);
        expect(result.stdout, batch[j]?.join(' ')).toMatch(/\S\n$/);
      }
    }
  }, 120_000);
});
