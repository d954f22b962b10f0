import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer } from './redis-server.js';

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
});
