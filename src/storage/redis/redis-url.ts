/** One `host:port` of a Redis deployment. */
interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/** What `parseRedisUrl` found in a URL: where to connect and how to authenticate. */
export interface ParsedRedisUrl {
  /** `single` for `redis://` and `rediss://`, `cluster` for `redis+cluster://` and `rediss+cluster://`. */
  readonly mode: 'single' | 'cluster';
  /** One address for `single`; the startup nodes for `cluster`. */
  readonly addresses: readonly RedisAddress[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Database index (`single` only). @default 0 */
  readonly db: number;
  readonly tls: boolean;
}

const EXPECTED =
  'a URL like "redis://[user:password@]host:port[/db]", "rediss://…" (TLS) or "redis+cluster://[user:password@]host1:port1,host2:port2"';

// scheme://userinfo@rest, where userinfo runs to the LAST "@" so unencoded "@" in a password is redacted too.
const CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^@]*)@/i;
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i;

/**
 * The URL with its password replaced by `***`, safe for logs and error messages. Strings that are not
 * URLs come back unchanged unless they carry `user:password@`.
 *
 * @example
 * redactUrl('redis://app:s3cret@cache:6379/0') // 'redis://app:***@cache:6379/0'
 */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at === -1) return url;
  const match = CREDENTIALS.exec(url.slice(0, at + 1));
  if (match === null) return url;
  const scheme = match[1] ?? '';
  const userinfo = match[2] ?? '';
  const colon = userinfo.indexOf(':');
  // "redis://secret@host" is ioredis' password-only form, so a userinfo without ":" is a password too.
  const user = colon === -1 ? '' : userinfo.slice(0, colon);
  return `${scheme}${user}:***@${url.slice(at + 1)}`;
}

/**
 * Parse a Redis URL. Percent-encoded user names and passwords are decoded.
 * Throws a `TypeError` naming the expected form (with the password redacted) when the URL is invalid.
 *
 * @example
 * parseRedisUrl('rediss://default:pw@cache.example:6380/2')
 * // { mode: 'single', addresses: [{ host: 'cache.example', port: 6380 }], username: 'default', password: 'pw', db: 2, tls: true }
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  if (typeof url !== 'string') throw new TypeError(`Expected \`url\` to be ${EXPECTED}, got ${typeof url}`);
  const fail = (why: string): never => {
    throw new TypeError(`Expected \`url\` to be ${EXPECTED}, got "${redactUrl(url)}" (${why})`);
  };
  const schemeEnd = url.indexOf('://');
  if (schemeEnd === -1) fail('no scheme');
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  const mode = scheme === 'redis+cluster' || scheme === 'rediss+cluster' ? 'cluster' : 'single';
  if (mode === 'single' && scheme !== 'redis' && scheme !== 'rediss') fail(`unknown scheme "${scheme}"`);
  const tls = scheme.startsWith('rediss');

  let rest = url.slice(schemeEnd + 3);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    try {
      if (colon === -1) {
        password = decodeURIComponent(userinfo);
      } else {
        username = decodeURIComponent(userinfo.slice(0, colon)) || undefined;
        password = decodeURIComponent(userinfo.slice(colon + 1));
      }
    } catch {
      fail('bad percent-encoding in the credentials');
    }
    if (password === '') password = undefined;
  }
  if (rest.includes('?') || rest.includes('#')) fail('query strings are not supported; pass options instead');

  let db = 0;
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const path = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
    if (path !== '') {
      if (mode === 'cluster') fail('a cluster has no database index');
      if (!/^\d{1,5}$/.test(path)) fail(`database "${path}" is not a number`);
      db = Number(path);
    }
  }

  const hosts = rest.split(',');
  if (mode === 'single' && hosts.length !== 1) fail('several hosts need the redis+cluster:// scheme');
  const addresses: RedisAddress[] = [];
  for (const hostPort of hosts) {
    const match = HOST_PORT.exec(hostPort);
    if (match === null) fail(`"${hostPort}" is not host:port`);
    const host = (match?.[1] ?? '').replace(/^\[|\]$/g, '');
    const port = match?.[2] === undefined ? 6379 : Number(match[2]);
    if (port < 1 || port > 65535) fail(`port ${port} is out of range`);
    addresses.push({ host, port });
  }
  return { mode, addresses, username, password, db, tls };
}
