import { describe, expect, it } from 'vitest';
import { parseRedisUrl, redactUrl } from '../../../src/storage/redis/redis-url.js';

describe('redactUrl', () => {
  it.each([
    ['redis://app:s3cret@cache:6379/0', 'redis://app:***@cache:6379/0'],
    ['redis://:s3cret@cache:6379', 'redis://:***@cache:6379'],
    ['rediss://s3cret@cache', 'rediss://:***@cache'],
    ['redis://u:p@ss@w0rd@host:1', 'redis://u:***@host:1'],
    ['redis+cluster://u:pw@a:1,b:2', 'redis+cluster://u:***@a:1,b:2'],
    ['redis://cache:6379', 'redis://cache:6379'],
    ['not a url', 'not a url'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('parseRedisUrl', () => {
  it('reads host, port, credentials (percent-decoded) and db', () => {
    expect(parseRedisUrl('redis://app:p%40ss@cache.local:6380/3')).toEqual({
      mode: 'single',
      addresses: [{ host: 'cache.local', port: 6380 }],
      username: 'app',
      password: 'p@ss',
      db: 3,
      tls: false,
    });
  });

  it('defaults the port to 6379 and the db to 0; rediss means TLS; IPv6 hosts in brackets', () => {
    expect(parseRedisUrl('rediss://[::1]')).toMatchObject({
      addresses: [{ host: '::1', port: 6379 }],
      db: 0,
      tls: true,
    });
    expect(parseRedisUrl('redis://:pw@h:1')).toMatchObject({ username: undefined, password: 'pw' });
  });

  it('reads a cluster URL with several startup nodes', () => {
    expect(parseRedisUrl('redis+cluster://u:pw@h1:7000,h2:7001')).toEqual({
      mode: 'cluster',
      addresses: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
      ],
      username: 'u',
      password: 'pw',
      db: 0,
      tls: false,
    });
  });

  it.each([
    'cache:6379',
    'http://cache:6379',
    'redis://cache:0',
    'redis://cache:70000',
    'redis://cache:6379/x',
    'redis://a:1,b:2',
    'redis://cache:6379?db=1',
    'redis+cluster://a:1,b:2/1',
    'redis://',
  ])('rejects %s with a TypeError stating the expected form', (url) => {
    expect(() => parseRedisUrl(url)).toThrow(TypeError);
    expect(() => parseRedisUrl(url)).toThrow(/redis:\/\/\[user:password@\]host:port\[\/db\]/);
  });

  it('never puts the password in the error', () => {
    expect(() => parseRedisUrl('redis://u:hunter2@cache:notaport')).toThrow(/u:\*\*\*@cache/);
    expect(() => parseRedisUrl('redis://u:hunter2@cache:notaport')).not.toThrow(/hunter2/);
  });
});
