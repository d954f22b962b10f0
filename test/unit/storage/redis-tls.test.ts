import type { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisStreamStorage } from '../../../src/index.js';
import { connectFromUrl, ownConnectionOptions } from '../../../src/storage/redis/redis-connections.js';
import { parseRedisUrl } from '../../../src/storage/redis/redis-url.js';

// rediss:// (TLS) from URL to ioredis options, without a TLS server: every client is lazy and
// never connects.

const lazy = { lazyConnect: true };

describe('rediss:// URLs → ioredis options', () => {
  it('a rediss URL turns TLS on, with the host as SNI servername, credentials, db and protocol 2', () => {
    const client = connectFromUrl(
      parseRedisUrl('rediss://app:p%40ss@cache.example.com:6380/2'),
      ownConnectionOptions(5000),
      lazy,
    ) as Redis;
    try {
      expect(client.options).toMatchObject({
        host: 'cache.example.com',
        port: 6380,
        db: 2,
        username: 'app',
        password: 'p@ss',
        protocol: 2,
        tls: { servername: 'cache.example.com' },
      });
    } finally {
      client.disconnect();
    }
  });

  it('caller TLS options (a CA, client certificates) are kept and merged with the servername', () => {
    const client = connectFromUrl(parseRedisUrl('rediss://cache.example.com'), ownConnectionOptions(5000), {
      ...lazy,
      tls: { ca: 'CA PEM', rejectUnauthorized: true },
    }) as Redis;
    try {
      expect(client.options.port).toBe(6379);
      expect(client.options.tls).toEqual({
        servername: 'cache.example.com',
        ca: 'CA PEM',
        rejectUnauthorized: true,
      });
    } finally {
      client.disconnect();
    }
  });

  it('a plain redis URL has no TLS', () => {
    const client = connectFromUrl(
      parseRedisUrl('redis://cache:6379'),
      ownConnectionOptions(5000),
      lazy,
    ) as Redis;
    try {
      expect(client.options.tls).toBeUndefined();
    } finally {
      client.disconnect();
    }
  });

  it('rediss+cluster gives every node TLS', () => {
    const cluster = connectFromUrl(
      parseRedisUrl('rediss+cluster://a.example:7000,b.example:7001'),
      ownConnectionOptions(5000),
      lazy,
    ) as Cluster;
    try {
      expect(cluster.options.redisOptions?.tls).toEqual({});
      expect(cluster.options.redisOptions?.protocol).toBe(2);
    } finally {
      cluster.disconnect();
    }
  });

  it('RedisStreamStorage.fromUrl accepts rediss:// and closes without ever connecting', async () => {
    const storage = RedisStreamStorage.fromUrl('rediss://default:secret@cache.example.com:6380', {
      redis: { lazyConnect: true },
    });
    await storage.close();
  });
});
