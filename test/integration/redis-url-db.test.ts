import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

// Issue 25, item 11: a URL with a database the server does not have (`redis://…/5` on a server with
// `databases 2`) used to run on db 0 in silence (ioredis only emits SELECT's error), in the runtime
// and in the CLI. Now both fail with an error that names the URL, password redacted. A private
// redis-server with a password and two databases.

const PASSWORD = 'pw-db-Secret-4711';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let server: RedisServer;
let url = '';
let db0: Redis;

beforeAll(async () => {
  server = await startRedisServer({ args: ['--requirepass', PASSWORD, '--databases', '2'] });
  url = `redis://:${PASSWORD}@127.0.0.1:${server.port}/5`;
  db0 = new Redis({ port: server.port, password: PASSWORD, lazyConnect: true });
  await db0.connect();
});

afterAll(async () => {
  db0.disconnect();
  await server.stop();
});

/** Every key of db 0: a URL's database mistake must not have written there. */
const keysOfDb0 = () => db0.keys('*');

describe('a Redis URL with a database the server does not have', { timeout: 30_000 }, () => {
  it('storage commands fail with an error naming the redacted URL and the database count', async () => {
    const storage = RedisStreamStorage.fromUrl(url);
    try {
      const error = await storage.add('orders', { type: 't' }).then(
        () => null,
        (e: unknown) => e as Error & { code?: string; retriable?: boolean },
      );
      expect(error?.message).toContain(`redis://:***@127.0.0.1:${server.port}/5`);
      expect(error?.message).toMatch(/no database 5/);
      expect(error?.message).toMatch(/databases/);
      expect(error?.message).not.toContain(PASSWORD);
      expect(error).toMatchObject({ code: 'REDIS', retriable: false });
      // And again, fast: the connection is closed for good.
      await expect(storage.length('orders')).rejects.toThrow(/no database 5/);
    } finally {
      await storage.close();
    }
    expect(await keysOfDb0()).toEqual([]);
    // A database the server has works.
    const one = RedisStreamStorage.fromUrl(`redis://:${PASSWORD}@127.0.0.1:${server.port}/1`);
    try {
      await one.add('orders', { type: 't' });
      expect(await one.length('orders')).toBe(1);
    } finally {
      await one.close();
    }
    expect(await keysOfDb0()).toEqual([]);
  });

  it('the runtime fails with that error instead of consuming db 0', async () => {
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(url),
        router: new Router(),
        logger: pino({ level: 'silent' }),
        consumers: [{ stream: 'orders', group: 'g', consumer: 'c' }],
        supervisor: { maxRestarts: 1, backoff: { minMs: 10, maxMs: 20 } },
      }),
    );
    try {
      await runtime.start().catch(() => undefined);
      await runtime.done;
      expect(runtime.status).toBe('failed');
      expect(String(runtime.fatalError?.message ?? runtime.fatalError)).toContain('no database 5');
      expect(
        JSON.stringify(runtime.fatalError, Object.getOwnPropertyNames(runtime.fatalError)),
      ).not.toContain(PASSWORD);
    } finally {
      await runtime.stop();
      await runtime.storage.close();
    }
    expect(await keysOfDb0()).toEqual([]);
    expectNoLeaks();
  });

  it('the CLI exits 1 with one line naming the redacted URL', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'publish', '--stream', 'orders', '--type', 't'],
        { cwd: ROOT, env: { ...process.env, REDIS_URL: url }, timeout: 20_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`redis://:***@127.0.0.1:${server.port}/5`);
    expect(result.stderr).toContain('no database 5');
    expect(result.stderr).not.toContain(PASSWORD);
    expect(await keysOfDb0()).toEqual([]);
  });
});
