import type { Redis } from 'ioredis';

/** Clients Redis reports blocked (`flags` with `b`) in `command` (lower case, e.g. `xreadgroup`). */
export async function blockedClients(redis: Redis, command: string): Promise<number> {
  const list = String(await redis.client('LIST'));
  let count = 0;
  for (const line of list.split('\n')) {
    const flags = / flags=(\S*)/.exec(line)?.[1] ?? '';
    const cmd = / cmd=(\S*)/.exec(line)?.[1];
    if (flags.includes('b') && cmd === command) count++;
  }
  return count;
}

/**
 * Resolves once at least `count` clients are blocked in `command`: the definition of "ready" for
 * every drain (the consumer or worker has nothing to do and waits in Redis). Rejects after
 * `timeoutMs`, naming `what`.
 */
export async function waitBlocked(
  redis: Redis,
  command: string,
  count: number,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await blockedClients(redis, command)) < count) {
    if (performance.now() > deadline)
      throw new Error(`${what}: no ${count} client(s) blocked in ${command} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
