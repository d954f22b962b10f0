import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRuntime,
  NonRetryableError,
  RedisStreamStorage,
  Router,
  type RuntimeEvent,
} from '../../src/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// The `streamvisor` CLI run as a child process (node + the tsx loader) against the shared Redis.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', 'src/cli/main.ts'];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, ...args],
      { cwd: ROOT, env: { ...process.env, REDIS_URL: sharedRedisUrl(), ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Collects a child's stdout lines; `next(n)` waits until at least n lines arrived. */
function lines(child: ChildProcess): { all: string[]; next(n: number): Promise<string[]> } {
  const all: string[] = [];
  let buffer = '';
  const waiters: (() => void)[] = [];
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    all.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    all,
    next: (n) =>
      new Promise((resolve) => {
        const check = () => (all.length >= n ? resolve(all) : waiters.push(check));
        check();
      }),
  };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const prefix = uniquePrefix();
const stream = `${prefix}:orders`;
const dead = `${stream}:dead`;
let storage: RedisStreamStorage;

beforeAll(() => {
  storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
});

afterAll(async () => {
  await storage.close();
  await cleanupKeys(prefix);
});

describe('streamvisor CLI against Redis', () => {
  let publishedId = '';
  let deadId = '';

  it('publish adds a typed message with payload and headers, and prints its id', async () => {
    const result = await cli([
      'publish',
      '--stream',
      stream,
      '--type',
      'order.paid',
      '--payload',
      '{"orderId":42}',
      '--header',
      'x-tenant=acme',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    publishedId = result.stdout.trim();
    expect(publishedId).toMatch(/^\d+-\d+$/);
    expect(await storage.range(stream)).toEqual([
      { id: publishedId, fields: { type: 'order.paid', payload: '{"orderId":42}', 'x-tenant': 'acme' } },
    ]);
  });

  it('status shows the stream, its group, consumer and pending entry (table and --json)', async () => {
    await storage.ensureGroup(stream, 'billing', '0');
    await storage.readGroup(stream, 'billing', 'worker-1', { count: 10 });
    const [table, json] = await Promise.all([
      cli(['status', '--stream', stream]),
      cli(['status', '--stream', stream, '--json']),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(stream);
    expect(table.stdout).toMatch(/billing/);
    expect(table.stdout).toMatch(/worker-1/);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as unknown[];
    expect(report).toEqual([
      {
        stream,
        length: 1,
        deadLetters: 0,
        groups: [
          expect.objectContaining({
            name: 'billing',
            pending: 1,
            lag: 0,
            consumers: [expect.objectContaining({ name: 'worker-1', pending: 1 })],
            oldestPendingAgeMs: expect.any(Number),
          }),
        ],
      },
    ]);
  });

  it('status without --stream finds streams with SCAN TYPE stream (--match narrows it)', async () => {
    const result = await cli(['status', '--match', `${prefix}:*`, '--json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { stream: string }[]).map((s) => s.stream)).toEqual([stream]);
  });

  it('dlq list --json shows a message a runtime dead-lettered, with its reason', async () => {
    const router = new Router().on('order.paid', () => {
      throw new NonRetryableError('card declined');
    });
    const runtime = createRuntime({
      storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
      router,
      consumers: [{ stream, group: 'payments', consumer: 'p1', startId: '0', blockMs: 200 }],
      logger: pino({ level: 'silent' }),
    });
    const deadLettered = new Promise<RuntimeEvent>((resolve) =>
      runtime.subscribe((event) => event.type === 'message.dead-lettered' && resolve(event)),
    );
    await runtime.start();
    const event = await deadLettered;
    await runtime.stop({ timeoutMs: 2000 });
    expect(event).toMatchObject({ messageId: publishedId, reason: 'non-retryable' });

    const result = await cli(['dlq', 'list', '--stream', stream, '--json']);
    expect(result.code).toBe(0);
    const letters = JSON.parse(result.stdout) as { id: string }[];
    expect(letters).toEqual([
      expect.objectContaining({
        reason: 'non-retryable',
        error: 'card declined',
        sourceStream: stream,
        sourceId: publishedId,
        group: 'payments',
        type: 'order.paid',
        fields: { type: 'order.paid', payload: '{"orderId":42}', 'x-tenant': 'acme' },
      }),
    ]);
    deadId = letters[0]?.id ?? '';
    const filtered = await cli(['dlq', 'list', '--stream', stream, '--reason', 'handler-error', '--json']);
    expect(JSON.parse(filtered.stdout)).toEqual([]);

    const shown = await cli(['dlq', 'show', '--stream', stream, '--id', deadId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('card declined');
    expect(shown.stdout).toContain('"orderId": 42');
  });

  it('dlq replay --id puts the original fields back on the source stream and deletes the dead letter', async () => {
    const result = await cli(['dlq', 'replay', '--stream', stream, '--id', deadId, '--json']);
    expect(result.code).toBe(0);
    const [replayed] = JSON.parse(result.stdout) as { deadLetterId: string; stream: string; id: string }[];
    expect(replayed).toMatchObject({ deadLetterId: deadId, stream });
    const [entry] = await storage.range(stream, { start: replayed?.id ?? '', end: '+' });
    expect(entry?.fields).toEqual({
      type: 'order.paid',
      payload: '{"orderId":42}',
      'x-tenant': 'acme',
      'x-replayed-from': deadId,
    });
    expect(await storage.length(dead)).toBe(0);
    const missing = await cli(['dlq', 'replay', '--stream', stream, '--id', deadId]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nothing replayed');
  });

  it('dlq purge refuses without --yes (exit 2, one line), and deletes by reason with it', async () => {
    await storage.add(dead, { type: 'a', 'x-dead-reason': 'missing-type', 'x-source-stream': stream });
    const kept = await storage.add(dead, {
      type: 'b',
      'x-dead-reason': 'handler-error',
      'x-source-stream': stream,
    });
    const refused = await cli(['dlq', 'purge', '--stream', stream, '--all']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('--yes');
    expect(await storage.length(dead)).toBe(2);

    const purged = await cli(['dlq', 'purge', '--stream', stream, '--reason', 'missing-type', '--yes']);
    expect(purged.code).toBe(0);
    expect(purged.stdout).toContain('purged 1 dead letter');
    expect((await storage.range(dead)).map((e) => e.id)).toEqual([kept]);
  });

  it('tail follows new entries live without a group, until Ctrl-C (exit 0)', async () => {
    const tailed = `${prefix}:tail`;
    const first = await storage.add(tailed, { type: 'user.joined', payload: '{"userId":1}' });
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, 'tail', '--stream', tailed, '--from', '0', '--json'],
      {
        cwd: ROOT,
        env: { ...process.env, REDIS_URL: sharedRedisUrl() },
      },
    );
    const exited = exitOf(child);
    const out = lines(child);
    await out.next(1);
    const second = await storage.add(tailed, { type: 'message.received', payload: '{"text":"hi"}' });
    await out.next(2);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.all.map((l) => JSON.parse(l))).toEqual([
      { stream: tailed, id: first, fields: { type: 'user.joined', payload: '{"userId":1}' } },
      { stream: tailed, id: second, fields: { type: 'message.received', payload: '{"text":"hi"}' } },
    ]);
    expect(await storage.groups(tailed)).toEqual([]);
  });
});

describe('streamvisor CLI: demo and bad arguments', () => {
  it('demo --duration 2.5 on the in-memory storage prints progress and heals, then exits 0', async () => {
    const result = await cli(['demo', '--duration', '2.5', '--heal-every', '1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('in-memory storage');
    expect(result.stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(result.stdout).toMatch(/processed \d+ \(\d+\.\d msg\/s\) {2}pending \d+/);
    expect(result.stdout).toMatch(/restarted \(reason nogroup/);
    expect(result.stdout).toMatch(/done: produced \d+, processed [1-9]\d*/);
  });

  it.each([
    [['dlq', 'list'], /required option '--stream <name>'/],
    [['publish', '--stream', 's', '--type', 't', '--payload', '{bad'], /--payload must be JSON/],
    [['publish', '--stream', 's', '--type', 't', '--header', 'novalue'], /expected key=value/],
    [['status', '--bogus'], /unknown option '--bogus'/],
    [['dlq', 'list', '--stream', 's', '--count', '0'], /expected an integer ≥ 1/],
    [['dlq', 'replay', '--stream', 's'], /exactly one of --id ID…, --reason REASON or --all/],
    [['stauts'], /unknown command 'stauts'.*status/],
  ])('%j exits 2 with a one-line error', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('asks for --redis or REDIS_URL when neither is given (exit 2)', async () => {
    const result = await cli(['status'], { REDIS_URL: undefined });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: no Redis URL: pass --redis URL or set REDIS_URL');
  });

  it('an unreachable Redis exits 1 with one line that never shows the password', async () => {
    const result = await cli(['status', '--redis', 'redis://app:s3cret-pw@127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('redis://app:***@127.0.0.1:1');
    expect(result.stderr).not.toContain('s3cret-pw');
  });

  it('--help of a command exits 0 and documents its options', async () => {
    const result = await cli(['dlq', 'replay', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--reason <reason>');
    expect(result.stdout).toContain('(env: REDIS_URL)');
  });
});
