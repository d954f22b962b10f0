import { isIP } from 'node:net';

/** Addresses that mean "every interface": they name no host a browser would put in `Host`. */
const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0', '']);

/** What the dashboard answers to on its own port, whatever it is bound to. */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** `[::1]` for an IPv6 literal, the name as is otherwise, lower-cased (Host is case-insensitive). */
function bracketed(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/** Splits a `Host` value into its name and port (`null` when absent); `[v6]:port` keeps its brackets. */
function splitHost(value: string): { name: string; port: string | null } {
  const text = value.trim().toLowerCase();
  const close = text.startsWith('[') ? text.indexOf(']') : -1;
  const colon = text.lastIndexOf(':');
  if (colon === -1 || colon < close) return { name: text, port: null };
  return { name: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** An IP literal cannot be rebound: a browser sends one only when its page's own origin is that IP. */
const isAddress = (name: string): boolean =>
  name.startsWith('[') ? name.endsWith(']') && isIP(name.slice(1, -1)) === 6 : isIP(name) === 4;

/**
 * The DNS-rebinding guard: a page on `evil.example:4000` whose name resolves to 127.0.0.1 reaches a
 * loopback dashboard and sends `Origin` and `Host` that agree, so only the `Host` name tells it apart.
 * Accepts the loopback names and the bound host (unless a wildcard) on the dashboard's port (no port
 * on port 80), any IP literal (no DNS name, nothing to rebind: Prometheus scrapes by pod IP), and
 * each of `allowedHosts`: a name alone matches it on any port (behind a proxy), a `name:port` only on
 * that port. Names compare case-insensitively; a missing `Host` is refused.
 *
 * @example
 * const allowed = createHostCheck({ host: '127.0.0.1', port: 4000, allowedHosts: ['dash.internal'] })
 * allowed('localhost:4000') // true
 * allowed('evil.example:4000') // false
 */
export function createHostCheck(options: { host: string; port: number; allowedHosts: readonly string[] }) {
  const own = new Set(LOOPBACK);
  if (!WILDCARDS.has(options.host)) own.add(bracketed(options.host));
  const anyPort = new Set<string>();
  const exact = new Set<string>();
  for (const entry of options.allowedHosts) {
    const { name, port } = splitHost(entry);
    if (port === null) anyPort.add(bracketed(name));
    else exact.add(`${bracketed(name)}:${port}`);
  }
  const ownPort = String(options.port);
  return (value: string | undefined): boolean => {
    if (value === undefined || value === '') return false;
    const { name, port } = splitHost(value);
    if (isAddress(name) || anyPort.has(name) || exact.has(`${name}:${port ?? '80'}`)) return true;
    return own.has(name) && (port === ownPort || (port === null && ownPort === '80'));
  };
}
