import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { beginTest, expectNoLeaks } from './leak-guard.js';
import { sharedRedisUrl } from './redis.js';

// The global leak guard (installed by setup.ts) fails a test for each kind of thing it watches. Each
// case opens one thing, runs the check the setup file's afterEach runs, and expects it to fail naming
// the thing; the check closes it, so the global afterEach then finds nothing.

afterEach(() => beginTest());

describe('the leak guard', () => {
  it('fails on a root actor left running, and passes once it is stopped', async () => {
    const actor = createActor(createMachine({ id: 'left', initial: 'a', states: { a: {} } })).start();
    await expect(expectNoLeaks()).rejects.toThrow(/actor .* \(left\)/);
    expect(actor.getSnapshot().status).toBe('stopped');
    beginTest();
    createActor(createMachine({ id: 'stopped', initial: 'a', states: { a: {} } }))
      .start()
      .stop();
    await expect(expectNoLeaks()).resolves.toBeUndefined();
  });

  it('fails on a timer or an interval left armed, not on one that fired or was cleared', async () => {
    setTimeout(() => {}, 60_000).unref();
    await expect(expectNoLeaks()).rejects.toThrow(/setTimeout\(…, 60000\)/);
    beginTest();
    setInterval(() => {}, 1000);
    await expect(expectNoLeaks()).rejects.toThrow(/setInterval\(…, 1000\)/);
    beginTest();
    await new Promise((resolve) => setTimeout(resolve, 1));
    clearTimeout(setTimeout(() => {}, 60_000));
    clearInterval(setInterval(() => {}, 1000));
    await expect(expectNoLeaks()).resolves.toBeUndefined();
  });

  it('fails on an ioredis client left connected', async () => {
    const client = new Redis(sharedRedisUrl(), { protocol: 2 });
    await client.ping();
    await expect(expectNoLeaks()).rejects.toThrow(/ioredis client/);
    if (client.status !== 'end') await new Promise((resolve) => client.once('end', resolve));
  });

  it('fails on a listening server left open', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await expect(expectNoLeaks()).rejects.toThrow(/listening server/);
    expect(server.listening).toBe(false);
  });

  it('fails on a child process left running', async () => {
    const child = spawn('sleep', ['30']);
    await expect(expectNoLeaks()).rejects.toThrow(/child process \d+ \(sleep 30\)/);
    expect(child.killed).toBe(true);
  });
});
