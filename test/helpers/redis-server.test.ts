import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer } from './redis-server.js';

/** Hold a port, as another process that took it between freePort() and redis-server's bind would. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, server };
}

/** Ports from a list first (taken ones), then free ones. */
function portsFrom(first: number[]): () => Promise<number> {
  const queue = [...first];
  return () => Promise.resolve(queue.shift() ?? freePort());
}

function ping(url: string): Promise<string> {
  const redis = new Redis(url, {
    protocol: 2,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  return redis.ping().finally(() => redis.disconnect());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedisServer', () => {
  const servers: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('starts a private server that answers PING, restarts with its AOF data, and stops idempotently', async () => {
    const server = await startRedisServer({ appendOnly: true });
    servers.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await ping(server.url)).toBe('PONG');

    const redis = new Redis(server.url, { protocol: 2, lazyConnect: true });
    await redis.set('kept', '1');
    redis.disconnect();
    const firstPid = server.pid;
    await server.restart({ keepData: true });
    expect(server.pid).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
    const again = new Redis(server.url, { protocol: 2, lazyConnect: true });
    expect(await again.get('kept')).toBe('1');
    again.disconnect();

    await server.restart();
    const fresh = new Redis(server.url, { protocol: 2, lazyConnect: true });
    expect(await fresh.get('kept')).toBeNull();
    fresh.disconnect();

    const pid = server.pid;
    await server.stop();
    await server.stop();
    expect(alive(pid)).toBe(false);
  });

  it('pause() stops answering until resume(), kill() ends the process', async () => {
    const server = await startRedisServer();
    servers.push(server);
    server.pause();
    const outcome = await Promise.race([
      ping(server.url),
      new Promise((resolve) => setTimeout(() => resolve('silent'), 300)),
    ]);
    expect(outcome).toBe('silent');
    server.resume();
    expect(await ping(server.url)).toBe('PONG');
    const pid = server.pid;
    await server.kill();
    expect(alive(pid)).toBe(false);
    await expect(ping(server.url)).rejects.toThrow();
  });

  // Issue 25, item 15: a fresh clone's `npm test` once failed with "exited early (1)" and no reason.
  it('retries on new ports when the picked port (or bus port) was taken before the bind', async () => {
    const taken = await holdPort();
    const takenBus = await holdPort();
    try {
      const server = await startRedisServer({ pickPort: portsFrom([taken.port]) });
      servers.push(server);
      expect(server.port).not.toBe(taken.port);
      expect(await ping(server.url)).toBe('PONG');
      await server.stop();
      // The bus port: the main port is free, the bus port is not.
      const free = await freePort();
      const node = await startRedisServer({
        clusterBus: true,
        args: ['--cluster-enabled', 'yes'],
        pickPort: portsFrom([free, takenBus.port]),
      });
      servers.push(node);
      expect(node.busPort).not.toBe(takenBus.port);
      expect(node.busPort).not.toBeNull();
      expect(await ping(node.url)).toBe('PONG');
      await node.stop();
    } finally {
      taken.server.close();
      takenBus.server.close();
    }
  });

  it('reports the server’s own words when it cannot start', async () => {
    const error = await startRedisServer({ args: ['--no-such-directive', 'x'] }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/exited early \(1\)/);
    expect(error?.message).toContain('Bad directive or wrong number of arguments');
    // A port that stays taken: the bind failure, in redis-server's words, after the last attempt.
    const taken = await holdPort();
    try {
      const bound = await startRedisServer({ pickPort: () => Promise.resolve(taken.port) }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(bound?.message).toContain(`Failed listening on port ${taken.port}`);
    } finally {
      taken.server.close();
    }
  });
});
