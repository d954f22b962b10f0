import { inspect } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { startRedisServer } from '../helpers/redis-server.js';
import {
  auditDeadLetters,
  delay,
  eventually,
  pendingIds,
  publishMany,
  RUNTIME_COMMANDS,
  startWorker,
  testClient,
  within,
} from './fault-support.js';

// Security under faults: Redis passwords never reach logs, events or errors (wrong password, server
// killed, and the runtime's default logger in a child process); an ACL user limited to the commands
// the runtime sends (documented in docs/operations.md) runs the whole message path: reads, acks,
// dead letters, claims of a dead consumer's entries, ownership touches.

afterEach(() => expectNoLeaks());

const PASSWORD = 'pw-S3cret-98765';
const WRONG = 'wrong-S3cret-12345';

function memoryLogger(lines: string[]) {
  return pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
}

function expectNoSecret(text: string, ...secrets: string[]) {
  for (const secret of secrets)
    expect(text.includes(secret), `"${secret}" leaked in: ${text.slice(0, 2000)}`).toBe(false);
}

describe('security: credentials never appear in logs or errors', () => {
  it('a wrong password: errors, events, fatalError and debug logs carry no password', {
    timeout: 30_000,
  }, async () => {
    const server = await startRedisServer({ args: ['--requirepass', PASSWORD] });
    const lines: string[] = [];
    const url = `redis://:${WRONG}@127.0.0.1:${server.port}`;
    const storage = RedisStreamStorage.fromUrl(url, { logger: memoryLogger(lines) });
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router: new Router(),
        logger: memoryLogger(lines),
        consumers: [{ stream: 'sv:s', group: 'g', consumer: 'c' }],
        supervisor: { maxRestarts: 1, backoff: { minMs: 10, maxMs: 20 } },
      }),
    );
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    try {
      const start = await runtime.start().then(
        () => null,
        (error: unknown) => error,
      );
      await runtime.done;
      expect(runtime.status).toBe('failed');
      const storage = RedisStreamStorage.fromUrl(url);
      const direct = await storage.add('sv:s', { type: 't' }).catch((error: unknown) => error);
      await storage.close();
      expect(String(direct)).toMatch(/WRONGPASS/);
      const everything = [
        lines.join('\n'),
        JSON.stringify(events),
        inspect(start, { depth: 10 }),
        inspect(runtime.fatalError, { depth: 10 }),
        inspect(direct, { depth: 10 }),
        JSON.stringify((direct as Error).cause),
      ].join('\n');
      expect(everything).toMatch(/WRONGPASS/);
      expectNoSecret(everything, WRONG, PASSWORD);
    } finally {
      await runtime.stop();
      await server.stop();
    }
  });

  it('the right password, then Redis killed: connection errors carry no password', {
    timeout: 30_000,
  }, async () => {
    const server = await startRedisServer({ args: ['--requirepass', PASSWORD] });
    const lines: string[] = [];
    const url = `redis://default:${PASSWORD}@127.0.0.1:${server.port}`;
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(url, { logger: memoryLogger(lines) }),
        router: new Router(),
        logger: memoryLogger(lines),
        consumers: [{ stream: 'sv:s', group: 'g', consumer: 'c', blockMs: 200 }],
      }),
    );
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    try {
      await runtime.start();
      await server.kill();
      await eventually(() => events.some((e) => e.type === 'consumer.backoff'), 10_000, 'a backoff');
      await delay(500);
    } finally {
      await runtime.stop({ timeoutMs: 1000 });
      await server.stop();
    }
    const everything = `${lines.join('\n')}\n${JSON.stringify(events)}`;
    expect(everything).toMatch(/ECONNREFUSED|connection/i);
    expectNoSecret(everything, PASSWORD);
  });

  it('the runtime’s default logger (in a child process) prints no password', {
    timeout: 30_000,
  }, async () => {
    const server = await startRedisServer({ args: ['--requirepass', PASSWORD] });
    try {
      const worker = startWorker(
        {
          url: `redis://:${WRONG}@127.0.0.1:${server.port}`,
          stream: 'sv:s',
          group: 'g',
          consumers: ['c'],
          supervisor: { maxRestarts: 1, backoff: { minMs: 10, maxMs: 20 } },
        },
        new Ledger(),
        'default-logger worker',
      );
      const exit = await within(worker.exited, 20_000, 'the worker to fail and exit');
      expect(exit.code).toBe(0);
      const logged = worker.otherOutput.filter((line) => line.includes('"name":"streamvisor"'));
      expect(logged.length).toBeGreaterThan(0); // the default logger did print (warn and error)
      expectNoSecret(
        [...worker.otherOutput, ...worker.lines.map((l) => JSON.stringify(l))].join('\n'),
        WRONG,
      );
    } finally {
      await server.stop();
    }
  });
});

describe('security: a least-privilege ACL user', () => {
  it('runs reads, acks, dead letters, claims and touches with only the runtime’s commands', {
    timeout: 30_000,
  }, async () => {
    const acl = [
      'sv-app',
      'on',
      '>app-pass',
      '~sv:*',
      'resetchannels',
      '-@all',
      ...RUNTIME_COMMANDS.map((c) => `+${c}`),
    ];
    const server = await startRedisServer({ args: ['--user', ...acl] });
    const admin = testClient(server.url);
    const lines: string[] = [];
    const ledger = new Ledger();
    const stream = 'sv:acl';
    const router = new Router();
    router.on('job', async (message) => {
      await delay(150); // past a touch interval (minIdleMs / 3): XCLAIM … JUSTID runs too
      ledger.handled(message.id);
    });
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(`redis://sv-app:app-pass@127.0.0.1:${server.port}`, {
          logger: memoryLogger(lines),
        }),
        router,
        logger: memoryLogger(lines),
        consumers: [
          {
            stream,
            group: 'g',
            consumer: 'app',
            startId: '0',
            blockMs: 200,
            claim: { minIdleMs: 300, intervalMs: 200 },
          },
        ],
        supervisor: { maxRestarts: 0 },
      }),
    );
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    try {
      // A dead consumer's pending entry (claimed by XAUTOCLAIM inside a script) and a malformed one.
      await admin.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
      await publishMany(admin, stream, 1, ledger);
      await admin.xreadgroup('GROUP', 'g', 'ghost', 'COUNT', 1, 'STREAMS', stream, '>');
      ledger.published(String(await admin.xadd(stream, '*', 'type', 'job', 'payload', '{bad')));
      await publishMany(admin, stream, 20, ledger);
      await runtime.start();
      await eventually(
        async () => {
          await auditDeadLetters(admin, `${stream}:dead`, ledger);
          return ledger.report().lost.length === 0;
        },
        10_000,
        'every message handled or dead-lettered',
      );
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
    }
    try {
      expect(ledger.report().paths).toEqual({ 'dead:malformed-payload': 1 });
      expect(await pendingIds(admin, stream, 'g')).toEqual([]);
      expect(events.filter((e) => e.type === 'consumer.backoff' || e.type === 'runtime.failed')).toEqual([]);
      // Redis 7.0 words a script's refused command without "NOPERM".
      expect(lines.filter((line) => /NOPERM|can't run this command|may not run/.test(line))).toEqual([]);
    } finally {
      admin.disconnect();
      await server.stop();
    }
  });
});
