import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors/connection-error.js';
import { RedisCommandError } from '../../src/errors/redis-command-error.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

// Redis-only behaviour on private servers: credentials, the read watchdog, a dead server.

const PASSWORD = 'pa55-w0rd%secret';
const ACL_PASSWORD = 'acl-secret-42';

function settle<T>(promise: Promise<T>): Promise<T | Error> {
  return promise.then(
    (value) => value,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
}

function expectNoSecret(error: unknown, ...secrets: string[]): void {
  const text = error instanceof Error ? `${error.message} ${String(error.stack)}` : String(error);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('RedisStreamStorage on a password-protected server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({
      args: ['--requirepass', PASSWORD, '--user', 'alice', 'on', `>${ACL_PASSWORD}`, '~sv:*', '+@all'],
    });
  });
  afterAll(() => server.stop());

  it('connects with the default user password (percent-encoded in the URL)', async () => {
    const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}/0`;
    const storage = RedisStreamStorage.fromUrl(url);
    try {
      const id = await storage.add('sv:pw', { type: 't' });
      expect(await storage.range('sv:pw')).toEqual([{ id, fields: { type: 't' } }]);
    } finally {
      await storage.close();
    }
  });

  it('connects as an ACL user, and its NOPERM replies are RedisCommandErrors', async () => {
    const storage = RedisStreamStorage.fromUrl(`redis://alice:${ACL_PASSWORD}@127.0.0.1:${server.port}`);
    try {
      expect(await storage.ensureGroup('sv:acl', 'g')).toBe(true);
      const outside = await settle(storage.add('elsewhere', { type: 't' }));
      expect(outside).toBeInstanceOf(RedisCommandError);
      expect(outside).toMatchObject({ reply: 'NOPERM' });
      expectNoSecret(outside, ACL_PASSWORD);
    } finally {
      await storage.close();
    }
  });

  it('a wrong password fails commands with an error that never shows the password', async () => {
    const wrong = 'wr0ng-but-secret';
    const storage = RedisStreamStorage.fromUrl(`redis://alice:${wrong}@127.0.0.1:${server.port}`);
    try {
      const started = Date.now();
      const outcome = await settle(storage.add('sv:x', { type: 't' }));
      expect(outcome).toBeInstanceOf(Error);
      expect(Date.now() - started).toBeLessThan(5000);
      expectNoSecret(outcome, wrong, ACL_PASSWORD, PASSWORD);
    } finally {
      await storage.close();
    }
  });

  it('an invalid URL is a TypeError that states the expected form without the password', () => {
    for (const url of [
      `http://:${PASSWORD}@host:1`,
      `redis://:${PASSWORD}@host:99999`,
      `redis://:${PASSWORD}@a:1,b:2`,
    ]) {
      let caught: unknown;
      try {
        RedisStreamStorage.fromUrl(url);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TypeError);
      expect((caught as Error).message).toContain('redis://[user:password@]host:port[/db]');
      expectNoSecret(caught, PASSWORD);
    }
  });
});

describe('RedisStreamStorage when Redis stops answering or dies', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('a blocking read on a paused server rejects with READ_TIMEOUT within block + margin, then reads work again', async () => {
    const storage = RedisStreamStorage.fromUrl(server.url, { watchdogMarginMs: 300 });
    try {
      await storage.ensureGroup('sv:watchdog', 'g', '$');
      // open the dedicated read connection first, so the pause catches a read in flight
      expect(await storage.readGroup('sv:watchdog', 'g', 'c', { count: 1, blockMs: 10 })).toEqual([]);
      const started = Date.now();
      const read = settle(storage.readGroup('sv:watchdog', 'g', 'c', { count: 1, blockMs: 500 }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      server.pause();
      const outcome = await read;
      const elapsed = Date.now() - started;
      server.resume();
      expect(outcome).toBeInstanceOf(ConnectionError);
      expect(outcome).toMatchObject({ code: 'READ_TIMEOUT', retriable: true });
      expect(elapsed).toBeGreaterThanOrEqual(790);
      expect(elapsed).toBeLessThan(1500);
      const next = storage.readGroup('sv:watchdog', 'g', 'c', { count: 1, blockMs: 2000 });
      const id = await storage.add('sv:watchdog', { type: 'after' });
      expect((await next).map((entry) => entry.id)).toEqual([id]);
    } finally {
      server.resume();
      await storage.close();
    }
  });

  it('commands against a killed server reject with ConnectionError within a few seconds; close() still resolves', async () => {
    const storage = RedisStreamStorage.fromUrl(server.url);
    await storage.ensureGroup('sv:dead', 'g', '$');
    const blocked = settle(storage.readGroup('sv:dead', 'g', 'c', { count: 1, blockMs: 10_000 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.kill();

    const started = Date.now();
    const outcomes = await Promise.all([
      settle(storage.add('sv:dead', { type: 't' })),
      settle(storage.pending('sv:dead', 'g', { count: 1 })),
      blocked,
    ]);
    expect(Date.now() - started).toBeLessThan(4000);
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(ConnectionError);
      expect(outcome).toMatchObject({ retriable: true });
    }
    const later = Date.now();
    expect(await settle(storage.length('sv:dead'))).toBeInstanceOf(ConnectionError);
    expect(Date.now() - later).toBeLessThan(4000);

    const closing = Date.now();
    await storage.close();
    expect(Date.now() - closing).toBeLessThan(2000);
    await server.restart();
  });

  it('recovers once the server is back', async () => {
    const storage = RedisStreamStorage.fromUrl(server.url);
    try {
      await server.kill();
      expect(await settle(storage.length('sv:back'))).toBeInstanceOf(ConnectionError);
      await server.restart();
      let length: number | Error = new Error('not tried');
      for (let attempt = 0; attempt < 40; attempt++) {
        length = await settle(storage.length('sv:back'));
        if (typeof length === 'number') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(length).toBe(0);
    } finally {
      await storage.close();
    }
  });
});

describe('RedisStreamStorage on a cluster URL', () => {
  it('fails commands with ConnectionError when no node answers, and close() still resolves', async () => {
    const storage = RedisStreamStorage.fromUrl('redis+cluster://:cluster-secret@127.0.0.1:1,127.0.0.1:2');
    const started = Date.now();
    const outcome = await settle(storage.length('sv:cluster'));
    expect(outcome).toBeInstanceOf(ConnectionError);
    expect(Date.now() - started).toBeLessThan(4000);
    expectNoSecret(outcome, 'cluster-secret');
    const closing = Date.now();
    await storage.close();
    expect(Date.now() - closing).toBeLessThan(2000);
  });
});

describe('RedisStreamStorage with a client the caller owns', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('rejects what is not an ioredis client with a TypeError', () => {
    const notAClient = { url: server.url } as unknown as Redis;
    expect(() => new RedisStreamStorage(notAClient)).toThrow(/Expected `client` to be an ioredis/);
  });

  it('close() closes its read connections but leaves the caller’s client open (RESP3, as created)', async () => {
    const client = new Redis(server.url);
    const storage = new RedisStreamStorage(client);
    await storage.ensureGroup('sv:own', 'g', '$');
    await storage.readGroup('sv:own', 'g', 'c', { count: 1, blockMs: 10 });
    const before = Number(String(await client.call('INFO', 'clients')).match(/connected_clients:(\d+)/)?.[1]);
    expect(before).toBe(2);
    await storage.close();
    expect(client.status).toBe('ready');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = Number(String(await client.call('INFO', 'clients')).match(/connected_clients:(\d+)/)?.[1]);
    expect(after).toBe(1);
    await client.quit();
  });
});
